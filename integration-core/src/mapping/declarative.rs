//! Declarative mappings (being written).
