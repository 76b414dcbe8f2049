"""wsms: a warehouse sales management system that lives in the terminal.

This package holds the domain services (ledger, security, audit, catalog, stock queries),
barcode interpretation, the CLI and the Textual app. Services never import Textual.
"""

__version__ = "0.1.0"
