"""wsms devices room: scanner sources, printer transports, the print spool worker, simulators.

Devices know nothing about warehouses: a scanner yields ``Scan`` records, a printer takes bytes.
Nothing here imports Textual or the rest of wsms.
"""
