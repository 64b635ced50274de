/** An amount in integer minor units (cents) of an ISO 4217 currency; never a float. */
export interface Money {
  currencyCode: string;
  minorUnits: number;
}
