"""The `skyssl` command: thin verbs over the layers."""
