// UI strings in English and Simplified Chinese (labels as in metrics.md).
window.I18N = {
  en: {
    title: "Wallboard", kiosk: "Kiosk", agents: "Agents", intraday: "Service level today",
    waiting: "Calls waiting", longest: "Longest wait", sl: "Service level",
    interval: "this interval", rolling: "last {n} min", today: "today",
    asa: "ASA", aht: "AHT", abandon_rate: "Abandon rate", offered: "Offered", answered: "Answered",
    occupancy: "Occupancy", target: "target",
    available: "Available", ringing: "Ringing", on_call: "On call", acw: "After-call work",
    not_ready: "Not ready", logged_out: "Logged out",
    out_of_adherence: "Out of adherence", since: "for",
    fresh: "Live", stale: "Data is {n} s old", reconnecting: "Reconnecting…", connecting: "Connecting…",
    no_data: "No data yet", all_queues: "All queues", theme_dark: "Dark", theme_light: "Light",
    lang_other: "中文", queue: "Queue",
  },
  "zh-CN": {
    title: "实时监控大屏", kiosk: "全屏", agents: "座席", intraday: "今日服务水平",
    waiting: "排队数", longest: "最长等待", sl: "服务水平",
    interval: "本时段", rolling: "近{n}分钟", today: "今日",
    asa: "平均应答速度", aht: "平均处理时长", abandon_rate: "放弃率", offered: "来电量", answered: "接通量",
    occupancy: "占用率", target: "目标",
    available: "示闲", ringing: "振铃", on_call: "通话中", acw: "话后处理",
    not_ready: "示忙", logged_out: "签出",
    out_of_adherence: "未遵守排班", since: "已",
    fresh: "实时", stale: "数据已延迟 {n} 秒", reconnecting: "正在重新连接…", connecting: "正在连接…",
    no_data: "暂无数据", all_queues: "全部队列", theme_dark: "深色", theme_light: "浅色",
    lang_other: "English", queue: "队列",
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
