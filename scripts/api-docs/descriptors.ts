import { readFileSync } from 'node:fs';
import { fromBinary, isFieldSet } from '@bufbuild/protobuf';
import {
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as Type,
  FieldDescriptorProtoSchema,
  FileDescriptorSetSchema,
  type DescriptorProto,
  type EnumDescriptorProto,
  type FieldDescriptorProto,
  type FileDescriptorProto,
} from '@bufbuild/protobuf/wkt';

/** What the API reference shows of one proto element. */
export interface Documented {
  name: string;
  fullName: string;
  comment: string;
}
export interface MethodDoc extends Documented {
  input: string;
  output: string;
  serverStreaming: boolean;
}
export interface ServiceDoc extends Documented {
  file: string;
  methods: MethodDoc[];
}
export interface FieldDoc extends Documented {
  number: number;
  type: string;
  label: 'repeated' | 'optional' | '';
  oneof?: string;
}
export interface MessageDoc extends Documented {
  file: string;
  fields: FieldDoc[];
}
export interface EnumDoc extends Documented {
  file: string;
  values: (Documented & { number: number })[];
}
export interface ApiDescription {
  services: ServiceDoc[];
  messages: MessageDoc[];
  enums: EnumDoc[];
}

// Paths into FileDescriptorProto (descriptor.proto field numbers), as SourceCodeInfo names them.
const PATH = { message: 4, enum: 5, service: 6, field: 2, nested: 3, nestedEnum: 4, value: 2, method: 2 } as const;

const scalarNames: Partial<Record<Type, string>> = {
  [Type.DOUBLE]: 'double',
  [Type.FLOAT]: 'float',
  [Type.INT64]: 'int64',
  [Type.UINT64]: 'uint64',
  [Type.INT32]: 'int32',
  [Type.FIXED64]: 'fixed64',
  [Type.FIXED32]: 'fixed32',
  [Type.BOOL]: 'bool',
  [Type.STRING]: 'string',
  [Type.BYTES]: 'bytes',
  [Type.UINT32]: 'uint32',
  [Type.SFIXED32]: 'sfixed32',
  [Type.SFIXED64]: 'sfixed64',
  [Type.SINT32]: 'sint32',
  [Type.SINT64]: 'sint64',
};

/** Reads a `buf build` descriptor set (with source info) into what the reference renders, for files under `prefix`. */
export function describeApi(descriptorSetPath: string | URL, prefix: string): ApiDescription {
  const set = fromBinary(FileDescriptorSetSchema, readFileSync(descriptorSetPath));
  const api: ApiDescription = { services: [], messages: [], enums: [] };
  for (const file of set.file) {
    if (!file.name.startsWith(prefix)) continue;
    describeFile(file, api);
  }
  return api;
}

function describeFile(file: FileDescriptorProto, api: ApiDescription): void {
  const comments = new Map<string, string>();
  for (const location of file.sourceCodeInfo?.location ?? []) {
    const text = (location.leadingComments || location.trailingComments).trim();
    if (text) comments.set(location.path.join('.'), text.replace(/\n /g, '\n'));
  }
  const commentAt = (path: readonly number[]) => comments.get(path.join('.')) ?? '';
  const scope = file.package ? `${file.package}.` : '';

  file.service.forEach((service, s) => {
    api.services.push({
      name: service.name,
      fullName: `${scope}${service.name}`,
      comment: commentAt([PATH.service, s]),
      file: file.name,
      methods: service.method.map((method, m) => ({
        name: method.name,
        fullName: `${scope}${service.name}.${method.name}`,
        comment: commentAt([PATH.service, s, PATH.method, m]),
        input: method.inputType.replace(/^\./, ''),
        output: method.outputType.replace(/^\./, ''),
        serverStreaming: method.serverStreaming,
      })),
    });
  });

  const describeEnum = (en: EnumDescriptorProto, path: number[], parent: string) =>
    api.enums.push({
      name: en.name,
      fullName: `${parent}${en.name}`,
      comment: commentAt(path),
      file: file.name,
      values: en.value.map((value, v) => ({
        name: value.name,
        fullName: `${parent}${value.name}`,
        number: value.number,
        comment: commentAt([...path, PATH.value, v]),
      })),
    });

  const describeMessage = (message: DescriptorProto, path: number[], parent: string) => {
    const fullName = `${parent}${message.name}`;
    api.messages.push({
      name: message.name,
      fullName,
      comment: commentAt(path),
      file: file.name,
      fields: message.field.map((field, f) => describeField(field, message, fullName, commentAt([...path, PATH.field, f]))),
    });
    message.nestedType.forEach((nested, n) => {
      if (!nested.options?.mapEntry) describeMessage(nested, [...path, PATH.nested, n], `${fullName}.`);
    });
    message.enumType.forEach((en, e) => describeEnum(en, [...path, PATH.nestedEnum, e], `${fullName}.`));
  };

  file.messageType.forEach((message, m) => describeMessage(message, [PATH.message, m], scope));
  file.enumType.forEach((en, e) => describeEnum(en, [PATH.enum, e], scope));
}

function describeField(field: FieldDescriptorProto, message: DescriptorProto, messageName: string, comment: string): FieldDoc {
  const mapEntry = field.typeName
    ? message.nestedType.find((n) => `${messageName}.${n.name}` === field.typeName.replace(/^\./, '') && n.options?.mapEntry)
    : undefined;
  const typeName = (f: FieldDescriptorProto) => scalarNames[f.type] ?? f.typeName.replace(/^\./, '');
  const type = mapEntry ? `map<${typeName(mapEntry.field[0]!)}, ${typeName(mapEntry.field[1]!)}>` : typeName(field);
  // oneof_index is a proto2 optional: 0 when unset, so ask for presence.
  const inRealOneof = isFieldSet(field, FieldDescriptorProtoSchema.field.oneofIndex) && !field.proto3Optional;
  return {
    name: field.name,
    fullName: `${messageName}.${field.name}`,
    number: field.number,
    comment,
    type,
    label: mapEntry ? '' : field.label === Label.REPEATED ? 'repeated' : field.proto3Optional ? 'optional' : '',
    oneof: inRealOneof ? message.oneofDecl[field.oneofIndex]?.name : undefined,
  };
}
