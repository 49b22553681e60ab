//! Windows events, from any JSON shape (evtx crate / evtx_dump, Velociraptor, Elastic/Winlogbeat,
//! OTRF flat exports), normalized to one flat field set, plus the channel → logsource table.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

use crate::json::{Map, Value};
use chrono::{DateTime, SecondsFormat, Utc};
use exhunt_model::LogSource;
use serde::Deserialize;

use crate::time::{from_epoch_secs, parse_iso};

type Field<'v> = (Cow<'v, str>, Cow<'v, str>);

#[derive(Deserialize)]
struct Table {
    channels: Vec<ChannelEntry>,
}

#[derive(Deserialize)]
struct ChannelEntry {
    channel: String,
    service: String,
    #[serde(default)]
    categories: HashMap<String, String>,
}

struct ChannelInfo {
    service: String,
    categories: HashMap<u32, String>,
}

fn table() -> &'static HashMap<String, ChannelInfo> {
    static TABLE: OnceLock<HashMap<String, ChannelInfo>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let t: Table = serde_json::from_str(include_str!("../data/windows-logsources.json"))
            .expect("data/windows-logsources.json is valid (checked by a unit test)");
        t.channels
            .into_iter()
            .map(|c| {
                let cats = c
                    .categories
                    .into_iter()
                    .filter_map(|(k, v)| k.parse().ok().map(|k| (k, v)))
                    .collect();
                (
                    c.channel.to_ascii_lowercase(),
                    ChannelInfo {
                        service: c.service,
                        categories: cats,
                    },
                )
            })
            .collect()
    })
}

/// The Sigma logsource of a Windows event.
pub(crate) fn logsource_for(channel: Option<&str>, event_id: Option<u32>) -> LogSource {
    let Some(channel) = channel.filter(|c| !c.is_empty()) else {
        return LogSource::new("windows", None, None);
    };
    match table().get(&channel.to_ascii_lowercase()) {
        Some(info) => {
            let cat = event_id.and_then(|e| info.categories.get(&e));
            LogSource::new("windows", Some(&info.service), cat.map(String::as_str))
        }
        None => LogSource::new("windows", Some(&channel.to_ascii_lowercase()), None),
    }
}

/// Logsources already built, so events can borrow them.
#[derive(Default)]
pub(crate) struct SourceCache {
    map: HashMap<String, HashMap<Option<u32>, LogSource>>,
}

impl SourceCache {
    pub(crate) fn get(&mut self, channel: Option<&str>, event_id: Option<u32>) -> &LogSource {
        let ch = channel.unwrap_or("");
        if !self.map.get(ch).is_some_and(|m| m.contains_key(&event_id)) {
            let ls = logsource_for(channel, event_id);
            self.map
                .entry(ch.to_string())
                .or_default()
                .insert(event_id, ls);
        }
        &self.map[ch][&event_id]
    }
}

/// A Windows event's normalized fields and the keys needed to classify it.
pub(crate) struct Normalized<'v> {
    pub fields: Vec<Field<'v>>,
    pub time: Option<DateTime<Utc>>,
    pub event_id: Option<u32>,
    /// Index in `fields` of the `Channel` field.
    channel_idx: Option<usize>,
}

impl<'v> Normalized<'v> {
    pub(crate) fn channel(&self) -> Option<&str> {
        self.channel_idx.map(|i| self.fields[i].1.as_ref())
    }
}

/// A JSON value as a field value: strings borrowed, numbers and bools rendered, `{"#text": x}`
/// unwrapped, arrays joined by newlines, null empty.
fn scalar<'v>(v: &'v Value<'v>) -> Option<Cow<'v, str>> {
    match v {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        Value::Null => Some(Cow::Borrowed("")),
        Value::Object(m) => m.get("#text").or_else(|| m.get("Value")).and_then(scalar),
        Value::Array(a) => {
            let parts: Vec<Cow<'_, str>> = a.iter().filter_map(scalar).collect();
            if parts.len() == 1 {
                return parts.into_iter().next();
            }
            Some(Cow::Owned(parts.join("\n")))
        }
    }
}

/// `obj[name]["#attributes"][attr]`, `obj[name + "_attributes"][attr]` or `obj[name][attr]`.
fn attr<'v>(obj: &'v Map<'v>, name: &str, attr: &str) -> Option<&'v Value<'v>> {
    let direct = obj.get(name);
    direct
        .and_then(|v| v.get("#attributes"))
        .and_then(|a| a.get(attr))
        .or_else(|| {
            obj.get(&format!("{name}_attributes"))
                .and_then(|a| a.get(attr))
        })
        .or_else(|| direct.and_then(|v| v.get(attr)))
}

/// Dotted path lookup that accepts both nested objects and flattened dotted keys.
fn path<'v>(v: &'v Value<'v>, p: &str) -> Option<&'v Value<'v>> {
    let obj = v.as_object()?;
    if let Some(x) = obj.get(p) {
        return Some(x);
    }
    let (head, rest) = p.split_once('.')?;
    path(obj.get(head)?, rest)
}

fn time_of(v: &Value<'_>) -> Option<DateTime<Utc>> {
    match v {
        Value::String(s) => {
            parse_iso(s).or_else(|| s.parse::<f64>().ok().and_then(from_epoch_secs))
        }
        Value::Number(n) => n.as_f64().and_then(from_epoch_secs),
        Value::Object(m) => m
            .get("SystemTime")
            .or_else(|| m.get("#text"))
            .and_then(time_of),
        _ => None,
    }
}

fn parse_eid(s: &str) -> Option<u32> {
    s.trim().parse().ok()
}

struct Builder<'v> {
    fields: Vec<Field<'v>>,
    unnamed: Vec<Cow<'v, str>>,
    time: Option<DateTime<Utc>>,
    event_id: Option<u32>,
    channel_idx: Option<usize>,
}

impl<'v> Builder<'v> {
    fn new() -> Self {
        Builder {
            fields: Vec::with_capacity(32),
            unnamed: Vec::new(),
            time: None,
            event_id: None,
            channel_idx: None,
        }
    }

    fn push(&mut self, k: impl Into<Cow<'v, str>>, v: Cow<'v, str>) {
        self.fields.push((k.into(), v));
    }

    fn push_opt(&mut self, k: &'static str, v: Option<&'v Value<'v>>) {
        if let Some(s) = v.and_then(scalar) {
            self.push(k, s);
        }
    }

    fn event_id(&mut self, v: Option<&'v Value<'v>>) {
        if let Some(s) = v.and_then(scalar) {
            self.event_id = parse_eid(&s);
            self.push("EventID", s);
        }
    }

    fn channel(&mut self, v: Option<&'v Value<'v>>) {
        if let Some(s) = v.and_then(scalar) {
            self.channel_idx = Some(self.fields.len());
            self.push("Channel", s);
        }
    }

    fn time(&mut self, v: Option<&'v Value<'v>>) {
        if self.time.is_none()
            && let Some(t) = v.and_then(time_of)
        {
            self.time = Some(t);
            self.push(
                "TimeCreated",
                Cow::Owned(t.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
            );
        }
    }

    /// EventData-like content: named values, `Data` / `#text` as unnamed values.
    fn data(&mut self, v: &'v Value<'v>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    if k == "Data" || k == "#text" {
                        self.unnamed_values(x);
                    } else if k.starts_with('#') || k == "xmlns" || k.ends_with("_attributes") {
                        continue;
                    } else {
                        self.named(k, x);
                    }
                }
            }
            Value::Null => {}
            other => self.unnamed_values(other),
        }
    }

    fn unnamed_values(&mut self, v: &'v Value<'v>) {
        match v {
            Value::Array(a) => a.iter().for_each(|x| self.unnamed_values(x)),
            Value::Object(m) => {
                // `<Data Name="x">` rendered as an object with attributes.
                let name = m
                    .get("#attributes")
                    .and_then(|a| a.get("Name"))
                    .or_else(|| m.get("Name"))
                    .and_then(Value::as_str);
                match (name, m.get("#text").or_else(|| m.get("Value"))) {
                    (Some(n), Some(t)) => {
                        if let Some(s) = scalar(t) {
                            self.push(n, s);
                        }
                    }
                    (None, Some(t)) => self.unnamed_values(t),
                    _ => self.nested(v),
                }
            }
            other => {
                if let Some(s) = scalar(other) {
                    self.unnamed.push(s);
                }
            }
        }
    }

    fn named(&mut self, k: &'v str, v: &'v Value<'v>) {
        match v {
            Value::Object(m) if !m.contains_key("#text") => self.nested(v),
            _ => {
                if let Some(s) = scalar(v) {
                    self.push(k, s);
                }
            }
        }
    }

    /// UserData-like nested content: every leaf by its own name.
    fn nested(&mut self, v: &'v Value<'v>) {
        if let Value::Object(m) = v {
            for (k, x) in m {
                if k.starts_with('#') || k == "xmlns" || k.ends_with("_attributes") {
                    continue;
                }
                self.named(k, x);
            }
        }
    }

    fn finish(mut self, message: Option<&'v Value<'v>>) -> Normalized<'v> {
        if !self.unnamed.is_empty() {
            let joined = self.unnamed.join("\n");
            let unnamed = std::mem::take(&mut self.unnamed);
            for (i, s) in unnamed.into_iter().enumerate() {
                self.push(format!("Data[{i}]"), s);
            }
            self.push("Data", Cow::Owned(joined));
        }
        if let Some(m) = message.and_then(scalar)
            && !m.is_empty()
        {
            self.push("Message", m);
        }
        let mut n = Normalized {
            fields: self.fields,
            time: self.time,
            event_id: self.event_id,
            channel_idx: self.channel_idx,
        };
        add_aliases(&mut n);
        n
    }
}

/// Sysmon-style names on Security 4688 so process_creation rules match it.
fn add_aliases(n: &mut Normalized<'_>) {
    if n.event_id != Some(4688)
        || !n
            .channel()
            .is_some_and(|c| c.eq_ignore_ascii_case("Security"))
    {
        return;
    }
    let get = |name: &str| {
        n.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let has = |name: &str| n.fields.iter().any(|(k, _)| k == name);
    let mut extra: Vec<Field<'_>> = Vec::new();
    if !has("Image")
        && let Some(v) = get("NewProcessName")
    {
        extra.push((Cow::Borrowed("Image"), v));
    }
    if !has("ParentImage")
        && let Some(v) = get("ParentProcessName")
    {
        extra.push((Cow::Borrowed("ParentImage"), v));
    }
    if !has("User")
        && let Some(u) = get("SubjectUserName")
    {
        let v = match get("SubjectDomainName") {
            Some(d) if !d.is_empty() && d != "-" => Cow::Owned(format!("{d}\\{u}")),
            _ => u,
        };
        extra.push((Cow::Borrowed("User"), v));
    }
    n.fields.extend(extra);
}

/// Normalize one JSON event of any supported shape. `None` when it is not a JSON object.
pub(crate) fn normalize<'v>(root: &'v Value<'v>) -> Option<Normalized<'v>> {
    let obj = root.as_object()?;
    if let Some(ev) = obj.get("Event").and_then(Value::as_object)
        && let Some(sys) = ev.get("System").and_then(Value::as_object)
    {
        let msg = ev
            .get("RenderingInfo")
            .and_then(|r| r.get("Message"))
            .or_else(|| obj.get("Message"));
        return Some(from_system(sys, ev, msg));
    }
    if let Some(sys) = obj.get("System").and_then(Value::as_object) {
        let msg = obj.get("Message").or_else(|| obj.get("message"));
        return Some(from_system(sys, obj, msg));
    }
    if obj.contains_key("winlog") || obj.contains_key("winlog.channel") {
        return Some(from_elastic(root));
    }
    Some(from_flat(obj))
}

/// evtx_dump / evtx crate (both attribute styles) and Velociraptor.
fn from_system<'v>(
    sys: &'v Map<'v>,
    parent: &'v Map<'v>,
    message: Option<&'v Value<'v>>,
) -> Normalized<'v> {
    let mut b = Builder::new();
    b.event_id(sys.get("EventID"));
    b.channel(sys.get("Channel"));
    b.push_opt("Provider_Name", attr(sys, "Provider", "Name"));
    b.push_opt("Computer", sys.get("Computer"));
    b.push_opt("EventRecordID", sys.get("EventRecordID"));
    b.push_opt("Level", sys.get("Level"));
    b.push_opt("Task", sys.get("Task"));
    b.push_opt("Keywords", sys.get("Keywords"));
    b.time(attr(sys, "TimeCreated", "SystemTime").or_else(|| sys.get("TimeCreated")));
    if let Some(uid) = attr(sys, "Security", "UserID").and_then(scalar)
        && !uid.is_empty()
    {
        b.push("Security_UserID", uid);
    }
    if let Some(ed) = parent.get("EventData") {
        b.data(ed);
    }
    if let Some(ud) = parent.get("UserData") {
        b.nested(ud);
    }
    b.finish(message)
}

/// Elastic / Winlogbeat documents.
fn from_elastic<'v>(root: &'v Value<'v>) -> Normalized<'v> {
    let mut b = Builder::new();
    b.event_id(path(root, "winlog.event_id").or_else(|| path(root, "event.code")));
    b.channel(path(root, "winlog.channel"));
    b.push_opt("Provider_Name", path(root, "winlog.provider_name"));
    b.push_opt(
        "Computer",
        path(root, "winlog.computer_name")
            .or_else(|| path(root, "host.name"))
            .or_else(|| path(root, "host.hostname")),
    );
    b.push_opt("EventRecordID", path(root, "winlog.record_id"));
    if let Some(l) = path(root, "winlog.level").and_then(scalar)
        && l.parse::<u32>().is_ok()
    {
        b.push("Level", l);
    }
    b.push_opt("Task", path(root, "winlog.task"));
    if let Some(k) = path(root, "winlog.keywords") {
        let s = match k {
            Value::Array(a) => {
                Cow::Owned(a.iter().filter_map(scalar).collect::<Vec<_>>().join(", "))
            }
            other => scalar(other).unwrap_or_default(),
        };
        b.push("Keywords", s);
    }
    b.time(path(root, "@timestamp").or_else(|| path(root, "event.created")));
    b.push_opt("Security_UserID", path(root, "winlog.user.identifier"));
    if let Some(ed) = path(root, "winlog.event_data") {
        b.data(ed);
    }
    if let Some(ud) = path(root, "winlog.user_data") {
        b.nested(ud);
    }
    b.finish(path(root, "message").or_else(|| path(root, "Message")))
}

/// Flat exports (OTRF Security-Datasets, nxlog): metadata keys mapped, others are event data.
fn from_flat<'v>(obj: &'v Map<'v>) -> Normalized<'v> {
    let mut b = Builder::new();
    let first = |keys: &[&str]| keys.iter().find_map(|k| obj.get(k));
    b.event_id(first(&["EventID", "EventId", "event_id"]));
    b.channel(first(&["Channel", "channel"]));
    b.push_opt(
        "Provider_Name",
        first(&["SourceName", "ProviderName", "Provider_Name", "Provider"]),
    );
    b.push_opt("Computer", first(&["Hostname", "Computer", "ComputerName"]));
    b.push_opt("EventRecordID", first(&["RecordNumber", "EventRecordID"]));
    b.push_opt("Level", first(&["Level"]));
    b.push_opt("Task", first(&["Task"]));
    b.push_opt("Keywords", first(&["Keywords"]));
    b.time(first(&[
        "TimeCreated",
        "@timestamp",
        "EventTime",
        "UtcTime",
    ]));
    const META: &[&str] = &[
        "EventID",
        "EventId",
        "event_id",
        "Channel",
        "channel",
        "SourceName",
        "ProviderName",
        "Provider_Name",
        "Provider",
        "Hostname",
        "Computer",
        "ComputerName",
        "RecordNumber",
        "EventRecordID",
        "Level",
        "Task",
        "Keywords",
        "TimeCreated",
        "@timestamp",
        "@version",
        "EventTime",
        "Message",
        "message",
    ];
    for (k, v) in obj {
        if META.contains(&k) {
            continue;
        }
        b.named(k, v);
    }
    b.finish(first(&["Message", "message"]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_loads_and_classifies() {
        assert!(table().len() > 10);
        let ls = logsource_for(Some("Microsoft-Windows-Sysmon/Operational"), Some(1));
        assert_eq!(ls.service.as_deref(), Some("sysmon"));
        assert_eq!(ls.category.as_deref(), Some("process_creation"));
        let ls = logsource_for(Some("security"), Some(4688));
        assert_eq!(ls.category.as_deref(), Some("process_creation"));
        let ls = logsource_for(Some("Security"), Some(4624));
        assert_eq!(ls.category, None);
        let ls = logsource_for(Some("Custom/Ops"), Some(1));
        assert_eq!(ls.service.as_deref(), Some("custom/ops"));
        assert_eq!(ls.product.as_deref(), Some("windows"));
    }

    fn get<'a>(n: &'a Normalized<'_>, k: &str) -> Option<&'a str> {
        n.fields
            .iter()
            .find(|(f, _)| f == k)
            .map(|(_, v)| v.as_ref())
    }

    #[test]
    fn unnamed_data_and_user_data() {
        let v: Value = serde_json::from_str(
            r##"{"Event":{"System":{"EventID":{"#attributes":{"Qualifiers":16384},"#text":1},
            "Channel":"MSExchange Management","Provider":{"#attributes":{"Name":"MSExchange CmdletLogs"}},
            "TimeCreated":{"#attributes":{"SystemTime":"2021-03-03T10:00:00.1234567Z"}},"EventRecordID":7},
            "EventData":{"Data":{"#text":["Set-OabVirtualDirectory","-ExternalUrl 'http://x'"]},"Binary":"00"},
            "UserData":{"LogFileCleared":{"#attributes":{"xmlns":"x"},"SubjectUserName":"bob"}}}}"##,
        )
        .unwrap();
        let n = normalize(&v).unwrap();
        assert_eq!(n.event_id, Some(1));
        assert_eq!(get(&n, "EventID"), Some("1"));
        assert_eq!(get(&n, "Provider_Name"), Some("MSExchange CmdletLogs"));
        assert_eq!(get(&n, "Data[0]"), Some("Set-OabVirtualDirectory"));
        assert_eq!(get(&n, "Data[1]"), Some("-ExternalUrl 'http://x'"));
        assert_eq!(
            get(&n, "Data"),
            Some("Set-OabVirtualDirectory\n-ExternalUrl 'http://x'")
        );
        assert_eq!(get(&n, "Binary"), Some("00"));
        assert_eq!(get(&n, "SubjectUserName"), Some("bob"));
        assert_eq!(
            get(&n, "TimeCreated"),
            Some("2021-03-03T10:00:00.123456700Z")
        );
        assert_eq!(n.channel(), Some("MSExchange Management"));
    }
}
