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
