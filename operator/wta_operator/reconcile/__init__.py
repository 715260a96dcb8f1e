"""Reconciliation steps: each applies one part of a tenant and reports its condition."""
