//! Connector skeleton: not implemented yet. See the project's issue list.
