"""Test helpers shared across test packages (local servers, fakes)."""
