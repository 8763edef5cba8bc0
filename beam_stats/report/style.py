"""The report's inline style sheet (system fonts only: nothing is fetched)."""

STYLE = """
:root{--d0:#2f6fb3;--d1:#e8871e;--err:#b42318;--warn:#b54708;--ok:#067647;--line:#d9dde3;
--muted:#5b6472;--bg:#f5f6f8;--link:#174ea6}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,
sans-serif;color:#1d2430;background:var(--bg)}
header{background:#fff;border-bottom:1px solid var(--line);padding:14px 24px}
h1{font-size:20px;margin:0 0 10px}
h2{font-size:16px;margin:0 0 10px}
main{padding:16px 24px}
section{background:#fff;border:1px solid var(--line);border-radius:6px;padding:14px 16px;
margin-bottom:16px}
a{color:var(--link)}
code{font-size:12px;background:#f0f2f5;padding:0 4px;border-radius:3px}
.datasets{display:flex;gap:12px;flex-wrap:wrap}
.dataset{padding:6px 12px;border:1px solid var(--line);border-radius:6px;background:#fbfcfd}
.dataset.d0{border-left:4px solid var(--d0)}
.dataset.d1{border-left:4px solid var(--d1)}
.swatch{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:5px;
vertical-align:-1px}
.swatch.d0{background:var(--d0)}
.swatch.d1{background:var(--d1)}
.role{color:var(--muted);text-transform:uppercase;font-size:11px;letter-spacing:.05em}
.others{margin:4px 0 0;color:var(--muted);font-size:12px;max-width:60em}
table{border-collapse:collapse;width:100%}
th,td{padding:4px 8px;border-bottom:1px solid #eceef1;text-align:left;vertical-align:top}
th{background:#eef0f4;font-weight:600;white-space:nowrap}
.features thead th{position:sticky;top:0;z-index:1}
th button.sort{all:unset;cursor:pointer}
th button.sort:focus-visible,td.name button:focus-visible{outline:2px solid var(--link)}
th[aria-sort=ascending] button.sort::after{content:" \\25B2";font-size:10px}
th[aria-sort=descending] button.sort::after{content:" \\25BC";font-size:10px}
.features td{font-variant-numeric:tabular-nums}
.features td.num{text-align:right;white-space:nowrap}
.features tr.feature{scroll-margin-top:40px}
.features tr.feature:hover>td{background:#f7f9fc}
.v{display:block}
.compared td.type .v{border-left:3px solid transparent;padding-left:5px}
.compared td.type .v.d0{border-left-color:var(--d0)}
.compared td.type .v.d1{border-left-color:var(--d1)}
.compared td.name,.compared td.status{vertical-align:middle}
.v.changed{color:var(--err);font-weight:600}
.v.absent{color:var(--muted);font-style:italic}
td.name{min-width:12em;max-width:28em}
td.name button.toggle{all:unset;cursor:pointer;color:var(--link);font-weight:500;
overflow-wrap:anywhere}
td.name button.toggle::before{content:"\\25B8";display:inline-block;width:1.1em;
color:var(--muted)}
td.name button.toggle[aria-expanded=true]::before{content:"\\25BE"}
td.top .v{max-width:16em;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.badge{display:inline-block;padding:0 7px;border-radius:10px;font-size:12px;
margin:1px 4px 1px 0;white-space:nowrap;border:1px solid}
.badge.error{color:var(--err);border-color:#f4b4ae;background:#fef3f2}
.badge.warning{color:var(--warn);border-color:#f7d39a;background:#fffaeb}
.badge.breach{color:#fff;background:var(--err);border-color:var(--err);font-weight:600}
.badge.ok{color:var(--ok);border-color:#a6e3c0;background:#ecfdf3}
tr.breach>td{background:#fde8e6}
tr.breach>td:first-child{box-shadow:inset 4px 0 var(--err)}
tr.breach .result{color:var(--err);font-weight:600}
tr.within .result{color:var(--ok)}
.measures td.num{text-align:right;font-variant-numeric:tabular-nums}
.findings td:first-child,.measures td:first-child{overflow-wrap:anywhere;max-width:20em}
.findings td:last-child{max-width:60em}
#label h3{font-size:14px;margin:16px 0 8px}
#label td.num{text-align:right;font-variant-numeric:tabular-nums}
#label td:first-child{overflow-wrap:anywhere;max-width:20em}
#label.compared .v{border-left:3px solid transparent;padding-left:5px}
#label.compared .v.d0{border-left-color:var(--d0)}
#label.compared .v.d1{border-left-color:var(--d1)}
tr.details>td{background:#fafbfc;padding:12px 16px 16px 28px;border-bottom:2px solid var(--line)}
.detail{display:flex;gap:28px;flex-wrap:wrap;align-items:flex-start}
.detail table{width:auto;font-size:13px}
.detail table.stats td:not(:first-child){text-align:right;font-variant-numeric:tabular-nums}
.detail h3{font-size:13px;margin:0 0 6px}
.legend{font-size:12px;color:var(--muted);margin-bottom:4px}
.legend span{margin-right:12px}
.caption{font-size:12px;color:var(--muted);margin:4px 0 0;max-width:560px}
svg.chart{display:block;background:#fff;border:1px solid var(--line);border-radius:4px}
svg.chart text{font-size:11px;fill:#4a5260}
svg.chart text.note{font-size:9px;fill:#8a93a0;font-style:italic}
svg.chart .bar.d0{fill:var(--d0);fill-opacity:.6}
svg.chart .bar.d1{fill:var(--d1);fill-opacity:.5;stroke:var(--d1);stroke-width:1}
svg.chart text.val{font-size:10px}
svg.chart .hit{fill:transparent}
svg.chart .hit:hover{fill:#1d243010}
svg.chart .grid{stroke:#e6e8eb}
svg.chart .axis{stroke:#8a93a0}
.issues{max-width:560px;font-size:13px;margin-top:12px}
.issues ul{margin:0 0 8px;padding-left:18px}
.issues li.breach{color:var(--err);font-weight:600}
.controls{display:flex;gap:18px;align-items:center;flex-wrap:wrap;margin-bottom:10px}
input[type=search]{padding:4px 8px;width:18em;border:1px solid #b9c0ca;border-radius:4px;
font:inherit}
select{font:inherit}
.hint{color:var(--muted);font-size:12px}
.empty{color:var(--muted)}
noscript p{margin:0 24px 16px}
"""
