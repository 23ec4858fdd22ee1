"""URL patterns shared by the apps' routes."""

from django.urls.converters import UUIDConverter

# A canonical UUID, as the `<uuid:...>` path converter matches it. Anything
# looser (say, 36 of [0-9a-f-]) lets strings that are not UUIDs reach the ORM,
# which fails on them instead of answering 404.
UUID = UUIDConverter.regex
