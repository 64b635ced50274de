import type { SeedCatalog } from '../../services/inventory/operator.js';

/** A small, believable grocery catalog for development and the demo. Prices in euro cents. */
export interface SeedProduct {
  sku: string;
  name: string;
  description: string;
  priceCents: number;
  stock: number;
  lowStockThreshold: number;
  categories: string[];
}

/**
 * Where the demo chain keeps stock (docs/locations.md): two dark stores in
 * Berlin delivering to their neighbourhoods (postal-code prefixes, and a radius
 * around them), and a warehouse shipping everywhere (no area) at a lower
 * priority. Each product's stock is spread over them (stockAt below); the
 * default location the migrations made keeps none.
 */
export const SEED_LOCATIONS: NonNullable<SeedCatalog['locations']> = [
  {
    code: 'ber-mitte',
    name: 'Dark store Berlin-Mitte',
    kind: 'DARK_STORE',
    address: { line1: 'Torstraße 100', line2: '', city: 'Berlin', postalCode: '10119', countryCode: 'DE' },
    coordinates: { latitude: 52.5291, longitude: 13.4013 },
    delivery: true,
    pickup: true,
    deliveryArea: { postalCodePrefixes: ['101', '104'], radiusKm: 3 },
    priority: 10,
    active: true,
  },
  {
    code: 'ber-kreuzberg',
    name: 'Dark store Berlin-Kreuzberg',
    kind: 'DARK_STORE',
    address: { line1: 'Oranienstraße 50', line2: '', city: 'Berlin', postalCode: '10969', countryCode: 'DE' },
    coordinates: { latitude: 52.5021, longitude: 13.4113 },
    delivery: true,
    pickup: true,
    deliveryArea: { postalCodePrefixes: ['109', '1096', '1099'], radiusKm: 3 },
    priority: 10,
    active: true,
  },
  {
    code: 'ber-warehouse',
    name: 'Warehouse Berlin-Spandau',
    kind: 'WAREHOUSE',
    address: { line1: 'Am Juliusturm 1', line2: '', city: 'Berlin', postalCode: '13599', countryCode: 'DE' },
    coordinates: { latitude: 52.5406, longitude: 13.2144 },
    delivery: true,
    pickup: false,
    deliveryArea: { postalCodePrefixes: [], radiusKm: 0 },
    priority: 0,
    active: true,
  },
];

/** A product's stock over the demo locations: half at the warehouse, a quarter at each dark store. */
export function spreadStock(units: number): Record<string, number> {
  const store = Math.floor(units / 4);
  return { 'ber-mitte': store, 'ber-kreuzberg': store, 'ber-warehouse': units - 2 * store };
}

export const SEED_CATEGORIES: { name: string; description: string }[] = [
  { name: 'Fruit & Vegetables', description: 'Fresh produce, delivered daily' },
  { name: 'Dairy & Eggs', description: 'Milk, cheese, yoghurt and free-range eggs' },
  { name: 'Bakery', description: 'Bread and pastries baked this morning' },
  { name: 'Pantry', description: 'Pasta, rice, tins and jars' },
  { name: 'Drinks', description: 'Water, juice, coffee and tea' },
  { name: 'Organic', description: 'Certified organic products' },
];

export const SEED_PRODUCTS: SeedProduct[] = [
  {
    sku: 'FV-BANANA-1KG',
    name: 'Bananas 1 kg',
    description: 'Fairtrade bananas',
    priceCents: 189,
    stock: 120,
    lowStockThreshold: 20,
    categories: ['Fruit & Vegetables'],
  },
  {
    sku: 'FV-APPLE-ELSTAR-1KG',
    name: 'Elstar apples 1 kg',
    description: 'Crisp and sweet-sour',
    priceCents: 249,
    stock: 80,
    lowStockThreshold: 15,
    categories: ['Fruit & Vegetables'],
  },
  {
    sku: 'FV-TOMATO-VINE-500G',
    name: 'Vine tomatoes 500 g',
    description: 'Ripened on the vine',
    priceCents: 229,
    stock: 60,
    lowStockThreshold: 10,
    categories: ['Fruit & Vegetables'],
  },
  {
    sku: 'FV-AVOCADO-2',
    name: 'Avocados, ripe, 2 pieces',
    description: 'Ready to eat',
    priceCents: 299,
    stock: 40,
    lowStockThreshold: 8,
    categories: ['Fruit & Vegetables'],
  },
  {
    sku: 'FV-CARROT-ORG-1KG',
    name: 'Organic carrots 1 kg',
    description: 'From Dutch farms',
    priceCents: 179,
    stock: 70,
    lowStockThreshold: 10,
    categories: ['Fruit & Vegetables', 'Organic'],
  },
  {
    sku: 'FV-SPINACH-300G',
    name: 'Baby spinach 300 g',
    description: 'Washed and ready',
    priceCents: 199,
    stock: 35,
    lowStockThreshold: 8,
    categories: ['Fruit & Vegetables'],
  },
  {
    sku: 'DE-MILK-WHOLE-1L',
    name: 'Whole milk 1 L',
    description: 'Fresh pasteurised',
    priceCents: 129,
    stock: 150,
    lowStockThreshold: 30,
    categories: ['Dairy & Eggs'],
  },
  {
    sku: 'DE-MILK-OAT-1L',
    name: 'Oat drink 1 L',
    description: 'Plant-based, unsweetened',
    priceCents: 219,
    stock: 90,
    lowStockThreshold: 15,
    categories: ['Dairy & Eggs', 'Drinks'],
  },
  {
    sku: 'DE-EGGS-FR-10',
    name: 'Free-range eggs, 10',
    description: 'Size M',
    priceCents: 369,
    stock: 60,
    lowStockThreshold: 12,
    categories: ['Dairy & Eggs'],
  },
  {
    sku: 'DE-GOUDA-YOUNG-500G',
    name: 'Young Gouda 500 g',
    description: 'Sliced',
    priceCents: 549,
    stock: 45,
    lowStockThreshold: 10,
    categories: ['Dairy & Eggs'],
  },
  {
    sku: 'DE-YOGHURT-GREEK-1KG',
    name: 'Greek yoghurt 1 kg',
    description: '10% fat',
    priceCents: 329,
    stock: 50,
    lowStockThreshold: 10,
    categories: ['Dairy & Eggs'],
  },
  {
    sku: 'DE-BUTTER-250G',
    name: 'Butter 250 g',
    description: 'Unsalted',
    priceCents: 279,
    stock: 55,
    lowStockThreshold: 10,
    categories: ['Dairy & Eggs'],
  },
  {
    sku: 'BK-SOURDOUGH-800G',
    name: 'Sourdough loaf 800 g',
    description: 'Long-fermented',
    priceCents: 399,
    stock: 25,
    lowStockThreshold: 5,
    categories: ['Bakery'],
  },
  {
    sku: 'BK-CROISSANT-4',
    name: 'Butter croissants, 4',
    description: 'Baked this morning',
    priceCents: 299,
    stock: 30,
    lowStockThreshold: 6,
    categories: ['Bakery'],
  },
  {
    sku: 'BK-RYE-ORG-500G',
    name: 'Organic rye bread 500 g',
    description: 'Dense and dark',
    priceCents: 349,
    stock: 20,
    lowStockThreshold: 5,
    categories: ['Bakery', 'Organic'],
  },
  {
    sku: 'PA-SPAGHETTI-500G',
    name: 'Spaghetti 500 g',
    description: 'Durum wheat, bronze-cut',
    priceCents: 149,
    stock: 200,
    lowStockThreshold: 30,
    categories: ['Pantry'],
  },
  {
    sku: 'PA-RICE-BASMATI-1KG',
    name: 'Basmati rice 1 kg',
    description: 'Aged, long grain',
    priceCents: 289,
    stock: 110,
    lowStockThreshold: 20,
    categories: ['Pantry'],
  },
  {
    sku: 'PA-TOMATOES-CHOP-400G',
    name: 'Chopped tomatoes 400 g',
    description: 'Italian, in tins',
    priceCents: 99,
    stock: 180,
    lowStockThreshold: 30,
    categories: ['Pantry'],
  },
  {
    sku: 'PA-OLIVE-OIL-EV-750ML',
    name: 'Extra virgin olive oil 750 ml',
    description: 'Cold pressed',
    priceCents: 899,
    stock: 40,
    lowStockThreshold: 8,
    categories: ['Pantry'],
  },
  {
    sku: 'PA-CHICKPEAS-ORG-400G',
    name: 'Organic chickpeas 400 g',
    description: 'Cooked, in jars',
    priceCents: 159,
    stock: 75,
    lowStockThreshold: 12,
    categories: ['Pantry', 'Organic'],
  },
  {
    sku: 'DR-WATER-SPARK-6X1L',
    name: 'Sparkling water 6 × 1 L',
    description: 'Mineral water',
    priceCents: 349,
    stock: 65,
    lowStockThreshold: 10,
    categories: ['Drinks'],
  },
  {
    sku: 'DR-ORANGE-JUICE-1L',
    name: 'Orange juice 1 L',
    description: 'Freshly squeezed, chilled',
    priceCents: 329,
    stock: 40,
    lowStockThreshold: 8,
    categories: ['Drinks'],
  },
  {
    sku: 'DR-COFFEE-BEANS-1KG',
    name: 'Coffee beans 1 kg',
    description: 'Medium roast arabica',
    priceCents: 1499,
    stock: 30,
    lowStockThreshold: 5,
    categories: ['Drinks'],
  },
  {
    sku: 'DR-TEA-GREEN-ORG-20',
    name: 'Organic green tea, 20 bags',
    description: 'Sencha',
    priceCents: 259,
    stock: 50,
    lowStockThreshold: 8,
    categories: ['Drinks', 'Organic'],
  },
];
