"""kopf handlers. Importing `kubedora.handlers.registry` registers them;
nothing else in kubedora imports this package."""
