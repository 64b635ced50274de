import type { Money as MoneyMessage } from '#libs/contracts/larder/common/v1/money.js';
import {
  ReservationStatus,
  type Category,
  type Product,
  type Reservation,
  type StockLevel,
} from '#libs/contracts/larder/inventory/v1/resources.js';
import type { Money } from '#libs/money/money.js';
import type { CategoryRecord, ProductRecord, ReservationRecord, StockRecord } from '../domain/types.js';

/** Domain records → protobuf messages, shared by the gRPC handlers and the events. */

export const toMoneyMessage = (money: Money): MoneyMessage => ({ currencyCode: money.currencyCode, minorUnits: money.minorUnits });

/** Low stock: what is available to sell at (or below) the threshold in force, when there is one. */
export const isLowStock = (stock: Pick<StockRecord, 'availableToSell' | 'lowStockThreshold'>): boolean =>
  stock.lowStockThreshold > 0 && stock.availableToSell <= stock.lowStockThreshold;

export const toStockLevelMessage = (stock: StockRecord): StockLevel => ({
  productId: stock.productId,
  available: stock.available,
  reserved: stock.reserved,
  sold: stock.sold,
  lowStock: isLowStock(stock),
  updateTime: stock.updatedAt,
  locationId: stock.locationId,
  safetyStock: stock.safetyStock,
  availableToSell: stock.availableToSell,
  onHand: stock.available + stock.reserved,
  inTransit: stock.inTransit,
  lowStockThreshold: stock.lowStockThreshold,
  locations: (stock.locations ?? []).map(toStockLevelMessage),
});

export const toProductMessage = (product: ProductRecord): Product => productMessage(product, toStockLevelMessage(product.stock));

/** A product's catalog part with a stock level. */
export const productMessage = (product: Omit<ProductRecord, 'stock'>, stockLevel: StockLevel | undefined): Product => ({
  id: product.id,
  sku: product.sku,
  name: product.name,
  description: product.description,
  price: toMoneyMessage(product.price),
  categoryIds: product.categoryIds,
  lowStockThreshold: product.lowStockThreshold,
  stockLevel,
  etag: String(product.version),
  createTime: product.createdAt,
  updateTime: product.updatedAt,
  deleteTime: product.deletedAt,
});

export const toCategoryMessage = (category: CategoryRecord): Category => ({
  id: category.id,
  name: category.name,
  description: category.description,
  createTime: category.createdAt,
  updateTime: category.updatedAt,
});

const statusMessage: Record<ReservationRecord['status'], ReservationStatus> = {
  RESERVED: ReservationStatus.RESERVATION_STATUS_RESERVED,
  COMMITTED: ReservationStatus.RESERVATION_STATUS_COMMITTED,
  RELEASED: ReservationStatus.RESERVATION_STATUS_RELEASED,
  EXPIRED: ReservationStatus.RESERVATION_STATUS_EXPIRED,
};

export const toReservationMessage = (reservation: ReservationRecord): Reservation => ({
  orderId: reservation.orderId,
  status: statusMessage[reservation.status],
  items: reservation.items.map((item) => ({
    productId: item.productId,
    quantity: item.quantity,
    unitPrice: toMoneyMessage(item.unitPrice),
  })),
  allocations: reservation.allocations.map((line) => ({ ...line })),
  expireTime: reservation.expiresAt,
  releaseReason: reservation.releaseReason ?? '',
  createTime: reservation.createdAt,
  updateTime: reservation.updatedAt,
});
