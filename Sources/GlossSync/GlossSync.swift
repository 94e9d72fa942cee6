// Bundles and the sync session arrive with Protocol/05-bundle.md.
