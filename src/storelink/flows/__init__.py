"""Work that spans several domains (Dispatch's flows.py): hiring and retiring staff, a customer's
privacy rights. A flow calls domain services; no domain service calls a flow."""
