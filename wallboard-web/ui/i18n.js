// UI strings in English and Simplified Chinese (labels as in metrics.md).
// Every key must exist in both languages: tests/browser checks it.
window.I18N = {
  en: {
    title: "Wallboard", kiosk: "Kiosk", agents: "Agents", intraday: "Today by interval",
    waiting: "Calls waiting", longest: "Longest wait", sl: "Service level",
    interval: "this interval", rolling: "last {n} min", today: "today",
    asa: "ASA", aht: "AHT", abandon_rate: "Abandon rate", offered: "Offered", answered: "Answered",
    abandoned: "Abandoned", occupancy: "Occupancy", target: "target",
    available: "Available", ringing: "Ringing", on_call: "On call", acw: "After-call work",
    not_ready: "Not ready", logged_out: "Logged out",
    st_available: "Avail", st_ringing: "Ring", st_on_call: "Call", st_acw: "ACW", st_not_ready: "NR",
    out_of_adherence: "Out of adherence", since: "for",
    fresh: "Live", stale: "Data is {n} s old", reconnecting: "Reconnecting…", connecting: "Connecting…",
    no_data: "No data yet", all_queues: "All queues", theme_dark: "Dark", theme_light: "Light",
    lang_other: "中文", queue: "Queue",
    sl_not_computed: "{v}@{s}s not computed", page: "Page {n} of {m}",
    sl_legend: "Service level variants (A = answered, B = abandoned, T = threshold)",
    sl1: "SL1: answered or abandoned within T, of all calls",
    sl2: "SL2: answered within T, of answered calls",
    sl3: "SL3: answered within T, of all calls",
    sl4: "SL4: answered within T, abandons within T left out",
    sort: "Sort", sort_state: "By state", sort_name: "By name", team: "Team", all_teams: "All teams",
    not_ready_by_reason: "Not ready by reason",
    reason_break: "Break", reason_lunch: "Lunch", reason_meeting: "Meeting", reason_training: "Training",
    reason_coaching: "Coaching", reason_admin: "Admin", reason_other: "Other", reason_none: "No reason",
    sev_critical: "CRITICAL", sev_warning: "WARNING", sev_info: "INFO",
    m_service_level: "{v}@{s}s", m_waiting: "calls waiting", m_oldest_wait_s: "longest wait",
    m_abandon_rate: "abandon rate", m_asa_s: "ASA", m_aht_s: "AHT", m_occupancy: "occupancy",
    m_agents_available: "agents available", m_out_of_adherence_minutes: "out of adherence",
    m_blocked: "blocked calls", blocked_n: "{n} blocked",
    blocked_title: "Blocked today (refused by the queue, not in Offered): {d}; this interval: {n}",
    m_csat: "CSAT", m_csat_mean: "CSAT mean", m_qa_score: "QA score", m_fcr: "FCR",
    csat_n: "CSAT {p}", qa_n: "QA {n}", fcr_n: "FCR {p}", fcr_so_far: "FCR ≈{p}",
    quality_title: "Today: CSAT (top-box) {c}, mean {m}/100 of {s} surveys; QA {q}/100 of {e} evaluations ({x} fatal); FCR {f} ({r} repeat contacts of {h} handled with a caller; ≈: so far, the 24 h window is not over)",
    op_lt: "below", op_le: "at most", op_gt: "above", op_ge: "at least", no_value: "no data",
    alert_line: "{rule}: {subject} · {metric} ({window}) is {value}, {op} {threshold}",
    alert_line_agent: "{rule}: {subject} · {metric} {value}, {op} {threshold}",
    chart_sl: "SL %", chart_target: "Target", chart_count: "Calls",
    status_good: "on target", status_warn: "near the limit", status_bad: "off target",
    msg_for: "for {queues}",
  },
  "zh-CN": {
    title: "实时监控大屏", kiosk: "全屏", agents: "座席", intraday: "今日分时段",
    waiting: "排队数", longest: "最长等待", sl: "服务水平",
    interval: "本时段", rolling: "近{n}分钟", today: "今日",
    asa: "平均应答速度", aht: "平均处理时长", abandon_rate: "放弃率", offered: "来电量", answered: "接通量",
    abandoned: "放弃量", occupancy: "占用率", target: "目标",
    available: "示闲", ringing: "振铃", on_call: "通话中", acw: "话后处理",
    not_ready: "示忙", logged_out: "签出",
    st_available: "示闲", st_ringing: "振铃", st_on_call: "通话", st_acw: "话后", st_not_ready: "示忙",
    out_of_adherence: "未遵守排班", since: "已",
    fresh: "实时", stale: "数据已延迟 {n} 秒", reconnecting: "正在重新连接…", connecting: "正在连接…",
    no_data: "暂无数据", all_queues: "全部队列", theme_dark: "深色", theme_light: "浅色",
    lang_other: "English", queue: "队列",
    sl_not_computed: "{v}@{s}秒 未计算", page: "第 {n} 页，共 {m} 页",
    sl_legend: "服务水平口径（A = 接通，B = 放弃，T = 阈值）",
    sl1: "SL1：T 内接通或放弃 / 全部来电",
    sl2: "SL2：T 内接通 / 接通量",
    sl3: "SL3：T 内接通 / 全部来电",
    sl4: "SL4：T 内接通，不计 T 内放弃",
    sort: "排序", sort_state: "按状态", sort_name: "按姓名", team: "班组", all_teams: "全部班组",
    not_ready_by_reason: "示忙原因",
    reason_break: "小休", reason_lunch: "午餐", reason_meeting: "会议", reason_training: "培训",
    reason_coaching: "辅导", reason_admin: "行政事务", reason_other: "其他", reason_none: "无原因",
    sev_critical: "严重", sev_warning: "警告", sev_info: "提示",
    m_service_level: "{v}@{s}秒", m_waiting: "排队数", m_oldest_wait_s: "最长等待",
    m_abandon_rate: "放弃率", m_asa_s: "平均应答速度", m_aht_s: "平均处理时长", m_occupancy: "占用率",
    m_agents_available: "示闲座席", m_out_of_adherence_minutes: "未遵守排班",
    m_blocked: "拒绝进队量", blocked_n: "{n} 通未进队",
    blocked_title: "今日拒绝进队（队列未接纳，不计入来电量）：{d}；本时段：{n}",
    m_csat: "满意度", m_csat_mean: "满意度均分", m_qa_score: "质检得分", m_fcr: "首次解决率",
    csat_n: "满意度 {p}", qa_n: "质检 {n}", fcr_n: "首解率 {p}", fcr_so_far: "首解率 ≈{p}",
    quality_title: "今日：满意度（好评率）{c}，{s} 份调查均分 {m}/100；质检 {e} 次均分 {q}/100（致命错误 {x} 次）；首次解决率 {f}（{h} 通有来电标识的已处理来电中重复来电 {r} 通；≈：截至目前，24 小时窗口未结束）",
    op_lt: "低于", op_le: "不高于", op_gt: "高于", op_ge: "不低于", no_value: "无数据",
    alert_line: "{rule}：{subject} · {metric}（{window}）为 {value}，{op} {threshold}",
    alert_line_agent: "{rule}：{subject} · {metric} {value}，{op} {threshold}",
    chart_sl: "服务水平 %", chart_target: "目标", chart_count: "来电",
    status_good: "达标", status_warn: "接近阈值", status_bad: "未达标",
    msg_for: "适用：{queues}",
  },
};

// Freshness (freshness.js, docs/metrics.md "Freshness").
Object.assign(window.I18N.en, {
  fr_waiting: "Waiting for data…", fr_unknown_tenant: "Unknown tenant \u201c{tenant}\u201d: no data",
  fr_last_update: "last update {age} ago", fr_feed_silent: "{source} feed silent for {time}",
  fr_no_data_for: "No data for {time}", fr_upstream_down: "Reconnecting to {source}",
  fr_old_data: "Data is {age} old", fr_quiet: "Quiet \u2014 no calls for {time}, feed OK",
  fr_days: "{n} days", fr_hours: "{n} hours", fr_minutes: "{n} minutes", fr_seconds: "{n} seconds",
  fr_src_queue_log: "Asterisk", fr_src_ami: "Asterisk AMI", fr_src_esl: "FreeSWITCH", fr_src_simulator: "Simulator",
});
Object.assign(window.I18N["zh-CN"], {
  fr_waiting: "等待数据…", fr_unknown_tenant: "未知租户\u201c{tenant}\u201d：无数据",
  fr_last_update: "上次更新于{age}前", fr_feed_silent: "{source} 数据源已静默 {time}",
  fr_no_data_for: "已 {time} 无数据", fr_upstream_down: "正在重新连接 {source}",
  fr_old_data: "数据已过时：{age}前", fr_quiet: "空闲 \u2014 已 {time} 无来电，数据源正常",
  fr_days: "{n} 天", fr_hours: "{n} 小时", fr_minutes: "{n} 分钟", fr_seconds: "{n} 秒",
  fr_src_queue_log: "Asterisk", fr_src_ami: "Asterisk AMI", fr_src_esl: "FreeSWITCH", fr_src_simulator: "模拟器",
});

// Live staffing and intraday attainment (docs/metrics.md).
Object.assign(window.I18N.en, {
  need_have: "Need · have", need_have_title: "Agents Erlang C needs now for {p} within {s} s · agents taking calls",
  attained: "Intervals met", attained_title: "Today's closed intervals with {v}@{s}s at or above {p}",
  m_staffing_gap: "agents short", m_required_agents: "agents needed", m_projected_service_level: "projected service level",
});
Object.assign(window.I18N["zh-CN"], {
  need_have: "需要 · 在岗", need_have_title: "按爱尔兰C公式，{s} 秒内接通 {p} 现需座席数 · 正在接听的座席数",
  attained: "达标时段", attained_title: "今日已结束时段中 {v}@{s}秒 不低于 {p} 的个数",
  m_staffing_gap: "座席缺口", m_required_agents: "所需座席", m_projected_service_level: "预计服务水平",
});

// Rebuilt from a log that lost records (docs/architecture.md, "Never silently partial").
Object.assign(window.I18N.en, {
  incomplete_until: "Incomplete data: intervals until {t} may miss events (the log lost records)",
  incomplete_open: "Incomplete data: events were lost from the log; numbers may be short",
});
Object.assign(window.I18N["zh-CN"], {
  incomplete_until: "数据不完整：{t} 之前的时段可能缺少事件（日志中的记录已丢失）",
  incomplete_open: "数据不完整：日志中的事件已丢失，数字可能偏少",
});

// Forecast vs actual (docs/metrics.md, "Forecast vs actual").
Object.assign(window.I18N.en, {
  plan_n: "plan", vs_plan_title: "Calls vs plan {v}: today's offered calls against the {f} planned up to now (amber beyond \u00b110 %); day reforecast: {r}",
});
Object.assign(window.I18N["zh-CN"], {
  plan_n: "对计划", vs_plan_title: "话务量对计划 {v}：今日来电量与截至目前计划的 {f} 通相比（超出 \u00b110 % 标黄）；全天重新预测：{r} 通",
});

// The queue tile's secondary line (docs/metrics.md, "The queue tile's secondary line").
Object.assign(window.I18N.en, {
  kpi_more_title: "Not shown on this tile (no room): {list}",
});
Object.assign(window.I18N["zh-CN"], {
  kpi_more_title: "此磁贴空间不足，未显示：{list}",
});

// Short labels, for a kiosk tile too narrow for the full one (docs/metrics.md,
// "The queue tile on the TV"); the full label stays in the title.
Object.assign(window.I18N.en, {
  waiting_short: "Waiting", longest_short: "Longest", abandon_short: "Abandon", asa_short: "ASA", aht_short: "AHT",
  attained_short: "Met",
});
Object.assign(window.I18N["zh-CN"], {
  waiting_short: "排队数", longest_short: "最长等待", abandon_short: "放弃率", asa_short: "应答速度", aht_short: "处理时长",
  attained_short: "达标",
});
