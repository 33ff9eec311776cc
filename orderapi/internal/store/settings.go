package store

// Settings is the restaurant_settings collection: one document.
type Settings struct{ base }
