"""URL patterns shared by the apps' routes."""

# A canonical UUID. Anything looser (say, 36 of [0-9a-f-]) lets strings that are
# not UUIDs reach the ORM, which fails on them instead of answering 404.
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
