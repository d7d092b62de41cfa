"""The OpenID Connect provider: Authlib server adapter, grants, claims, keys, sessions, logout."""
