"""The dashboard's one stylesheet, served from the operator itself: system
fonts only, light and dark themes after the reader's preference, visible
keyboard focus, and band colours that never carry meaning alone (the band
is also written out)."""

from __future__ import annotations

STYLESHEET_PATH = "/kubedora.css"

STYLESHEET = """
:root {
  color-scheme: light dark;
  --bg: #ffffff; --fg: #1b1f24; --muted: #57606a; --card: #f6f8fa; --line: #d0d7de;
  --accent: #0b5cad; --bar: #3b7dd8; --dot: #b3261e; --focus: #bf5700;
  --elite: #1a7f37; --high: #3b7dd8; --medium: #9a6700; --low: #b3261e; --none: #57606a;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0d1117; --fg: #e6edf3; --muted: #9da7b3; --card: #161b22; --line: #30363d;
    --accent: #79c0ff; --bar: #58a6ff; --dot: #ff7b72; --focus: #ffa657;
    --elite: #56d364; --high: #79c0ff; --medium: #e3b341; --low: #ff7b72; --none: #9da7b3;
  }
}
* { box-sizing: border-box; }
body {
  margin: 0; padding: 1rem 1.5rem 3rem; background: var(--bg); color: var(--fg);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
}
a { color: var(--accent); }
a:focus-visible, summary:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.skip { position: absolute; left: -9999px; }
.skip:focus { left: 1rem; top: 0.5rem; background: var(--card); padding: 0.3rem 0.6rem; }
h1 { font-size: 1.5rem; margin: 0.2rem 0; }
h2 { font-size: 1.25rem; border-bottom: 1px solid var(--line); padding-bottom: 0.2rem;
     margin-top: 2rem; }
h3 { font-size: 1rem; margin: 1.2rem 0 0.5rem; }
.meta, .note, .empty { color: var(--muted); }
nav ul { list-style: none; padding: 0; display: flex; gap: 1rem; flex-wrap: wrap; }
.keys { display: grid; grid-template-columns: repeat(auto-fit, minmax(13rem, 1fr)); gap: 0.8rem; }
.key { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
       padding: 0.6rem 0.9rem; }
.key h3 { margin: 0; font-size: 0.9rem; color: var(--muted); font-weight: 600; }
.key .value { font-size: 1.8rem; font-weight: 650; margin: 0.2rem 0; }
.key p { margin: 0.1rem 0; }
.band strong { text-transform: capitalize; }
.band-elite strong { color: var(--elite); } .band-high strong { color: var(--high); }
.band-medium strong { color: var(--medium); } .band-low strong { color: var(--low); }
.band-none strong { color: var(--none); }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(20rem, 1fr)); gap: 0.8rem; }
figure.chart { margin: 0; background: var(--card); border: 1px solid var(--line);
               border-radius: 8px; padding: 0.5rem 0.7rem; }
figure.chart figcaption { font-weight: 600; font-size: 0.9rem; }
svg { width: 100%; height: auto; display: block; }
svg .bar { fill: var(--bar); } svg .dot { fill: var(--dot); }
svg .line { fill: none; stroke: var(--dot); stroke-width: 1.5; }
svg .gap { fill: var(--muted); } svg .axis { stroke: var(--muted); }
svg .grid { stroke: var(--line); stroke-dasharray: 3 3; }
svg .tick { fill: var(--muted); font-size: 10px; }
details summary { cursor: pointer; color: var(--accent); font-size: 0.85rem; }
table { border-collapse: collapse; margin: 0.4rem 0; font-size: 0.9rem; }
caption { text-align: left; color: var(--muted); padding-bottom: 0.3rem; }
th, td { border-bottom: 1px solid var(--line); padding: 0.25rem 0.7rem 0.25rem 0;
         text-align: left; }
td { font-variant-numeric: tabular-nums; }
"""
