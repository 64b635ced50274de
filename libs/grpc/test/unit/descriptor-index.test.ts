import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { indexDescriptorSet, withDependencies, type DescriptorIndex } from '../../descriptor-index.js';

const SERVICE_FILE = 'larder/inventory/v1/inventory_service.proto';

describe('libs/grpc/descriptor-index', () => {
  let index: DescriptorIndex;

  before(() => {
    index = indexDescriptorSet(readFileSync(new URL('../../../contracts/descriptors.binpb', import.meta.url)));
  });

  it('indexes every file of the descriptor set by name, with its imports', () => {
    for (const file of [
      SERVICE_FILE,
      'larder/inventory/v1/resources.proto',
      'larder/common/v1/money.proto',
      'google/protobuf/duration.proto',
      'grpc/health/v1/health.proto',
    ]) {
      expect(index.files.has(file), file).to.equal(true);
    }
    expect(index.dependencies.get(SERVICE_FILE)).to.include.members([
      'google/protobuf/duration.proto',
      'google/protobuf/field_mask.proto',
      'larder/inventory/v1/resources.proto',
    ]);
    expect(index.dependencies.get('google/protobuf/duration.proto')).to.deep.equal([]);
  });

  it('maps services and their methods to the declaring file', () => {
    expect(index.symbols.get('larder.inventory.v1.InventoryService')).to.equal(SERVICE_FILE);
    expect(index.symbols.get('larder.inventory.v1.InventoryService.ReserveStock')).to.equal(SERVICE_FILE);
    expect(index.symbols.get('grpc.health.v1.Health.Check')).to.equal('grpc/health/v1/health.proto');
  });

  it('maps messages and their fields to the declaring file', () => {
    expect(index.symbols.get('larder.inventory.v1.ReserveStockRequest')).to.equal(SERVICE_FILE);
    expect(index.symbols.get('larder.common.v1.Money')).to.equal('larder/common/v1/money.proto');
    expect(index.symbols.get('google.protobuf.Duration')).to.equal('google/protobuf/duration.proto');
    expect(index.symbols.get('google.protobuf.Duration.seconds')).to.equal('google/protobuf/duration.proto');
  });

  it('scopes enum values as siblings of their enum', () => {
    expect(index.symbols.get('larder.inventory.v1.ReservationStatus')).to.equal('larder/inventory/v1/resources.proto');
    expect(index.symbols.get('larder.inventory.v1.RESERVATION_STATUS_RESERVED')).to.equal('larder/inventory/v1/resources.proto');
    expect(index.symbols.has('larder.inventory.v1.ReservationStatus.RESERVATION_STATUS_RESERVED')).to.equal(false);
  });

  it('indexes nested enums and their values', () => {
    expect(index.symbols.get('grpc.health.v1.HealthCheckResponse.ServingStatus')).to.equal('grpc/health/v1/health.proto');
    expect(index.symbols.get('grpc.health.v1.HealthCheckResponse.SERVING')).to.equal('grpc/health/v1/health.proto');
  });

  it('does not invent symbols', () => {
    expect(index.symbols.has('larder.inventory.v1.InventoryService.NoSuchMethod')).to.equal(false);
    expect(index.symbols.has('InventoryService')).to.equal(false);
  });

  it('lists the inventory and health services, each once', () => {
    expect(index.services).to.include('larder.inventory.v1.InventoryService');
    expect(index.services).to.include('grpc.health.v1.Health');
    expect(new Set(index.services).size).to.equal(index.services.length);
  });

  describe('withDependencies', () => {
    const namesOf = (files: Uint8Array[]): string[] => files.map((bytes) => [...index.files].find(([, file]) => file === bytes)![0]);

    it('returns the file first, then everything it imports transitively, each once', () => {
      const names = namesOf(withDependencies(index, SERVICE_FILE));
      expect(names[0]).to.equal(SERVICE_FILE);
      expect(names).to.include.members([
        'larder/inventory/v1/resources.proto',
        'larder/common/v1/money.proto',
        'google/protobuf/duration.proto',
        'google/protobuf/field_mask.proto',
        'google/protobuf/timestamp.proto',
      ]);
      expect(new Set(names).size).to.equal(names.length);
      expect(names).not.to.include('grpc/health/v1/health.proto');
    });

    it('returns the serialized file bytes untouched', () => {
      const [first] = withDependencies(index, SERVICE_FILE);
      expect(first).to.equal(index.files.get(SERVICE_FILE));
      expect(Buffer.from(first!).includes(Buffer.from('ReserveStockRequest'))).to.equal(true);
    });

    it('returns nothing for an unknown file', () => {
      expect(withDependencies(index, 'no/such.proto')).to.deep.equal([]);
    });
  });

  it('indexes an empty descriptor set as empty', () => {
    const empty = indexDescriptorSet(new Uint8Array());
    expect(empty.files.size).to.equal(0);
    expect(empty.symbols.size).to.equal(0);
    expect(empty.services).to.deep.equal([]);
  });
});
