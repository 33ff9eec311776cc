package store

// Business is the business_status collection: one document saying whether
// the shop is open.
type Business struct{ base }
