// The wire contract, from the client package: the collector accepts exactly what tallyho validates
// before sending, so the two cannot drift apart.
export { ReportSchema } from 'tallyho/schema';
export type { Report } from 'tallyho/schema';
