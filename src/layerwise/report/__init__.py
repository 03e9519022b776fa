"""Reports: the same findings and figures rendered for people (terminal, markdown, html) and for
machines (json, sarif, GitHub workflow annotations)."""
