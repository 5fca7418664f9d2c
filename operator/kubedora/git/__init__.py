"""Git history for lead time: a bounded, blobless, shared cache of bare
repositories, fetched with the git CLI from allowed hosts only."""
