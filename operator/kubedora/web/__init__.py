"""The dashboard page, rendered from figures: SVG charts, HTML and its
stylesheet. Pure: the operator's HTTP server (handlers/web.py) serves it."""
