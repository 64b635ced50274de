/** Where a use case was asked from: carried into the order log and into events' metadata. */
export interface RequestContext {
  correlationId?: string;
}
