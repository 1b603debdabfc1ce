#include "ctl/console/console_assets.h"

namespace webhook::ctl::console {

const std::string_view kStyleSheet = R"css(
:root{--fg:#1f2933;--muted:#616e7c;--line:#e4e7eb;--bg:#f5f7fa;--card:#fff;--accent:#2f5fd0;
--ok:#1f8a4c;--bad:#c8322f;--warn:#b7791f;--run:#6b46c1;--idle:#7b8794}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;
color:var(--fg);background:var(--bg)}
a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
header.top{display:flex;align-items:center;gap:24px;padding:0 24px;height:52px;background:#1c2b4a;color:#fff}
header.top .brand{font-weight:600;font-size:15px;letter-spacing:.2px;color:#fff}
header.top nav a{color:#c9d4ea;margin-right:16px;padding:15px 0;border-bottom:2px solid transparent}
header.top nav a.on{color:#fff;border-bottom-color:#7aa2ff}
header.top .who{margin-left:auto;display:flex;gap:8px;align-items:center;color:#c9d4ea;font-size:13px}
header.top .who input{width:170px}
main{max-width:1200px;margin:0 auto;padding:20px 24px 48px}
h1{font-size:20px;margin:4px 0 16px}h2{font-size:16px;margin:24px 0 10px}
.banner{padding:10px 14px;border-radius:6px;margin-bottom:16px;border:1px solid}
.banner.info{background:#eef3fd;border-color:#c5d5f6}
.banner.ok{background:#e8f6ee;border-color:#b6e0c6}
.banner.error{background:#fdecec;border-color:#f3c0bf}
.banner.readonly{background:#fff8e6;border-color:#f0dca8}
.tiles{display:grid;grid-template-columns:repeat(5,1fr);gap:12px;margin-bottom:8px}
.tile{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px 14px}
.tile .n{font-size:24px;font-weight:600}.tile .l{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.5px}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:16px;margin-bottom:16px}
.card h3{margin:0 0 10px;font-size:16px;display:flex;gap:10px;align-items:center}
.card h3.sub{margin-top:14px}label.refresh{font-size:13px;font-weight:400;margin-left:12px}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:16px}
table{border-collapse:collapse;width:100%;background:var(--card)}
th,td{text-align:left;padding:7px 10px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:12px;color:var(--muted);font-weight:600;text-transform:uppercase;letter-spacing:.4px;background:#fafbfc}
table.list{border:1px solid var(--line);border-radius:8px;overflow:hidden}
table.kv th{width:160px;text-transform:none;font-size:13px;background:none}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.mono,pre,code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
pre{background:#f8f9fb;border:1px solid var(--line);border-radius:6px;padding:10px;margin:0;
white-space:pre-wrap;word-break:break-all;max-height:360px;overflow:auto}
.cut{max-width:360px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.muted{color:var(--muted)}.nowrap{white-space:nowrap}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;color:#fff;background:var(--idle)}
.badge.pending{background:var(--accent)}.badge.running{background:var(--run)}
.badge.delivered,.badge.ok,.badge.alive{background:var(--ok)}
.badge.dead,.badge.failed,.badge.silent{background:var(--bad)}.badge.cancelled{background:var(--idle)}
.counts{display:flex;gap:8px;flex-wrap:wrap;margin:8px 0}
.counts a{display:inline-flex;gap:6px;align-items:center;border:1px solid var(--line);border-radius:6px;padding:3px 8px;color:var(--fg)}
.counts b{font-variant-numeric:tabular-nums}
.chart{margin-top:8px}.chart svg{display:block}.chart .legend{font-size:12px;color:var(--muted)}
form.inline{display:inline-flex;gap:6px;align-items:center;margin:0}
.actions{display:flex;gap:10px;flex-wrap:wrap;margin-top:12px;align-items:center}
input,select,button{font:inherit;font-size:13px;padding:5px 8px;border:1px solid #cbd2d9;border-radius:5px;background:#fff;color:var(--fg)}
button{background:var(--accent);border-color:var(--accent);color:#fff;cursor:pointer;font-weight:600}
button.secondary{background:#fff;color:var(--accent)}button.danger{background:var(--bad);border-color:var(--bad)}
button[disabled]{opacity:.5;cursor:not-allowed}
.filters{display:flex;gap:8px;align-items:center;margin-bottom:12px;flex-wrap:wrap}
.pager{display:flex;gap:16px;margin-top:12px}
footer{color:var(--muted);font-size:12px;text-align:center;padding:16px}
@media (max-width:800px){.tiles{grid-template-columns:repeat(2,1fr)}.grid2{grid-template-columns:1fr}}
)css";

const std::string_view kScript = R"js(
// Auto-refresh of the overview, off unless the box is ticked; the choice is kept per browser.
(function () {
  var box = document.getElementById('autorefresh');
  if (!box) return;
  box.parentElement.hidden = false;
  box.checked = localStorage.getItem('webhook-console-refresh') === '1';
  var timer = null;
  function arm() {
    if (timer) clearTimeout(timer);
    if (box.checked) timer = setTimeout(function () { location.reload(); }, 10000);
  }
  box.addEventListener('change', function () {
    localStorage.setItem('webhook-console-refresh', box.checked ? '1' : '0');
    arm();
  });
  arm();
})();
)js";

}  // namespace webhook::ctl::console
