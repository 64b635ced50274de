import { readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { expect } from 'chai';
import { sourceFiles } from '#test/support/source-files.js';
import ts from 'typescript';

/**
 * Types flow one way: a service's records and vocabulary are declared in its
 * domain, data/ imports them, and the layers above data/ take from a data/
 * module only the functions they call. dependency-cruiser's rule
 * (types-from-domain-not-data) sees `import type` lines, but it counts
 * `import { findOrder, type OrderPatch }` and a type imported without the
 * `type` keyword as plain imports. This check asks the type checker about
 * every name such a layer imports from data/, whatever the import's form.
 */

const ROOT = resolve(new URL('../../', import.meta.url).pathname);
/** Every layer of a service but data/ itself; app.ts and main.ts (the composition root) and tests are not layers. */
const LAYERS = ['domain', 'saga', 'contract', 'transport', 'consumers', 'inventory', 'payments'];
const DATA_MODULE = /^services\/[^/]+\/data\//;

function layerFiles(): string[] {
  return readdirSync(join(ROOT, 'services')).flatMap((service) =>
    LAYERS.flatMap((layer) => sourceFiles(join(ROOT, 'services', service, layer))),
  );
}

/** The data/ module a relative specifier names, as a path from the root; undefined for any other module. */
function dataModule(file: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const target = relative(ROOT, resolve(dirname(file), specifier)).replace(/\.js$/, '.ts');
  return DATA_MODULE.test(target) ? target : undefined;
}

/** A name that only names a type (interface, type alias): it has no value a caller could call. */
function isTypeOnlySymbol(checker: ts.TypeChecker, node: ts.Node): boolean {
  const local = checker.getSymbolAtLocation(node);
  if (!local) return false;
  const target = local.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(local) : local;
  return (target.flags & ts.SymbolFlags.Value) === 0;
}

/** `file: name (from module)` for every type a layer file takes from a data/ module. */
function typesFromData(program: ts.Program, file: string): string[] {
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file)!;
  const found: string[] = [];
  const report = (name: string, module: string) => found.push(`${relative(ROOT, file)}: ${name} (from ${module})`);

  const visit = (node: ts.Node): void => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      const module = dataModule(file, node.moduleSpecifier.text);
      if (module) checkDeclaration(node, module);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      // type T = import('../data/orders.js').OrderPatch
      const module = dataModule(file, node.argument.literal.text);
      if (module) report(node.qualifier?.getText(source) ?? 'import(…)', module);
    }
    ts.forEachChild(node, visit);
  };

  const checkDeclaration = (node: ts.ImportDeclaration | ts.ExportDeclaration, module: string): void => {
    if (ts.isExportDeclaration(node)) {
      // A layer that re-exports from data/ hands data/'s names on: only its functions may pass.
      const elements = node.exportClause && ts.isNamedExports(node.exportClause) ? node.exportClause.elements : [];
      if (node.isTypeOnly || !node.exportClause) report(node.exportClause?.getText(source) ?? '*', module);
      for (const element of elements) {
        if (element.isTypeOnly || isTypeOnlySymbol(checker, element.name)) report(element.name.text, module);
      }
      return;
    }
    const clause = node.importClause;
    if (!clause) return;
    if (clause.name && (clause.isTypeOnly || isTypeOnlySymbol(checker, clause.name))) report(clause.name.text, module);
    const bindings = clause.namedBindings;
    if (bindings && ts.isNamedImports(bindings)) {
      for (const element of bindings.elements) {
        if (clause.isTypeOnly || element.isTypeOnly || isTypeOnlySymbol(checker, element.name)) report(element.name.text, module);
      }
    } else if (bindings && ts.isNamespaceImport(bindings)) {
      // import * as orders from '../data/orders.js': every `orders.X` in a type position.
      const namespace = bindings.name.text;
      const uses = (inner: ts.Node): void => {
        if (ts.isTypeReferenceNode(inner) && ts.isQualifiedName(inner.typeName) && inner.typeName.left.getText(source) === namespace) {
          report(`${namespace}.${inner.typeName.right.text}`, module);
        }
        ts.forEachChild(inner, uses);
      };
      if (clause.isTypeOnly) report(`* as ${namespace}`, module);
      else uses(source);
    }
  };

  visit(source);
  return found;
}

describe('structure: types flow from the domain to data/, never back', () => {
  it('no layer above data/ (domain, saga, contract, transport, consumers, adapters) imports a type from data/', function () {
    this.timeout(60_000);
    const config = ts.getParsedCommandLineOfConfigFile(
      join(ROOT, 'tsconfig.json'),
      {},
      { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} },
    )!;
    const files = layerFiles();
    expect(files.length, 'layer files found').to.be.greaterThan(20);
    // The layer files and the data/ modules alone: the checker only has to tell a type from a value
    // among data/'s exports, so knex, the generated contracts and the standard library stay unread.
    const dataFiles = readdirSync(join(ROOT, 'services')).flatMap((service) => sourceFiles(join(ROOT, 'services', service, 'data')));
    const program = ts.createProgram([...files, ...dataFiles], { ...config.options, noResolve: true, noLib: true, types: [] });
    expect(files.flatMap((file) => typesFromData(program, file))).to.deep.equal([]);
  });
});
