"""The reviewer console: a Starlette application over the evidence database (`portal-evidence serve`)."""
