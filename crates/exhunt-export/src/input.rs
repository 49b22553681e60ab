//! Reading a scan folder without holding it.
//!
//! One streaming pass over `findings.jsonl` keeps the aggregates the outputs need (counts,
//! times, hosts, techniques, ...) and a small index per finding (where its line is, its time,
//! level and timeline key); one pass over `timeline.csv`, run alongside, keeps where each
//! context row is. The outputs then stream `findings.jsonl` again in order, or re-read single
//! findings and rows by position, so memory grows with that index, never with the findings.

use std::cmp::{Ordering, Reverse};
use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use exhunt_model::Finding;
use exhunt_report::{ContextEvent, FindingsReader, ReportError, Summary, phases_of};
use serde_json::Value;

use crate::attack::{TechniqueUse, TechniqueUses};
use crate::{
    ExportError, MAX_HTML_FINDINGS, TOOLS, ToolSeen, file_sha256, level_rank, read_err, source_ip,
    unneutralise,
};

/// The phases of an intrusion, in order (as `exhunt_report::phases_of` names them).
pub(crate) const PHASES: &[&str] = &[
    "probing",
    "exploitation",
    "webshell",
    "post-exploitation",
    "data-theft",
];

/// Where a line or record lies in its file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pos {
    pub offset: u64,
    pub len: u32,
}

/// One finding, by its place in `findings.jsonl`, with what report.html's chart shows of it.
#[derive(Debug)]
pub(crate) struct FindingEntry {
    pub pos: Pos,
    pub time: Option<DateTime<Utc>>,
    pub rank: u8,
    /// Evidence path (interned) and line or record: with the time, the timeline.jsonl key.
    pub path: u32,
    pub line_or_record: Option<u64>,
    /// Bit `i` set when the finding belongs to phase `PHASES[i]`.
    pub phases: u8,
    /// Rule level and title, and client address ([`NONE`] when none), in [`Input::strings`].
    pub level: u32,
    pub title: u32,
    pub ip: u32,
}

/// No string.
pub(crate) const NONE: u32 = u32::MAX;

/// One context row of `timeline.csv`, by its place in the file.
#[derive(Debug)]
pub(crate) struct ContextEntry {
    pub pos: Pos,
    pub time: Option<DateTime<Utc>>,
    pub path: u32,
    pub line_or_record: Option<u64>,
}

/// Strings seen many times (evidence paths), stored once.
#[derive(Debug, Default)]
pub(crate) struct Interner {
    ids: HashMap<String, u32>,
    names: Vec<String>,
}

impl Interner {
    fn id(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.ids.get(s) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(s.to_string());
        self.ids.insert(s.to_string(), i);
        i
    }
}

/// Findings that showed one observed value (an attacker address, a web shell's hash).
#[derive(Debug, Default, Clone)]
pub(crate) struct Bucket {
    pub ids: BTreeSet<String>,
    pub first: Option<DateTime<Utc>>,
    pub last: Option<DateTime<Utc>>,
}

impl Bucket {
    fn add(&mut self, f: &Finding) {
        self.ids.insert(f.id.clone());
        if let Some(t) = f.time {
            self.first = Some(self.first.map_or(t, |x| x.min(t)));
            self.last = Some(self.last.map_or(t, |x| x.max(t)));
        }
    }
}

/// What the outputs need from all the findings together.
#[derive(Debug, Default)]
pub(crate) struct Aggregates {
    pub count: usize,
    /// Findings with a time.
    pub timed: usize,
    /// First and last finding time.
    pub first: Option<DateTime<Utc>>,
    pub last: Option<DateTime<Utc>>,
    pub hosts: BTreeSet<String>,
    pub uses: BTreeMap<String, TechniqueUse>,
    /// Tools and malware seen, finding ids in findings order.
    pub tools: Vec<ToolSeen>,
    /// Per phase (in [`PHASES`] order), the worst and earliest finding.
    pub key_evidence: Vec<(&'static str, Finding)>,
    /// Findings from each attacker address of the verdict.
    pub by_ip: BTreeMap<String, Bucket>,
    /// Web shell findings by the file's SHA-256, with the file names.
    pub by_hash: BTreeMap<String, (Bucket, BTreeSet<String>)>,
    /// No two findings share an id (so a [`Bucket`]'s times are those of its ids).
    pub ids_unique: bool,
    /// The findings listed in report.html: (position in findings order, file index).
    pub shown: Vec<(usize, u32)>,
}

/// Everything read from a scan folder.
pub(crate) struct Input {
    pub findings_path: PathBuf,
    /// Per finding, in file order.
    pub entries: Vec<FindingEntry>,
    /// File indexes in findings order (time, rule, evidence), or `None` when the file is
    /// already in that order (as exhunt writes it, up to times equal to the millisecond).
    pub order: Option<Vec<u32>>,
    pub agg: Aggregates,
    pub summary: Summary,
    /// `timeline.csv` when present, its columns and context rows.
    pub context: Option<ContextIndex>,
    /// Interned evidence paths ranked in string order, for findings and for context rows.
    pub finding_path_rank: Vec<u32>,
    /// Rule levels and titles and client addresses of the findings, interned.
    pub strings: Vec<String>,
    pub context_path_rank: Vec<u32>,
    pub attribution: Option<Value>,
    pub exposure: Option<Value>,
}

/// The context rows of `timeline.csv` (the findings come from `findings.jsonl`).
pub(crate) struct ContextIndex {
    pub path: PathBuf,
    pub cols: ContextColumns,
    pub rows: Vec<ContextEntry>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct ContextColumns {
    kind: usize,
    time: usize,
    msg: Option<usize>,
    path: Option<usize>,
    line: Option<usize>,
    record: Option<usize>,
    excerpt: Option<usize>,
}

fn report_err(path: &Path, e: ReportError) -> ExportError {
    match e {
        ReportError::Read { reason, .. } => read_err(path, reason),
        other => read_err(path, other),
    }
}

impl Input {
    /// Number of findings.
    pub fn len(&self) -> usize {
        self.agg.count
    }

    /// (position in findings order, file index) of every finding, in findings order.
    pub fn in_order(&self) -> impl Iterator<Item = (usize, u32)> + '_ {
        (0..self.entries.len()).map(|n| (n, self.order.as_ref().map_or(n as u32, |o| o[n])))
    }

    /// Call `f` with every finding in findings order and its position in that order.
    pub fn for_each_finding<E: From<ExportError>>(
        &self,
        mut f: impl FnMut(usize, &Finding) -> Result<(), E>,
    ) -> Result<(), E> {
        let path = &self.findings_path;
        match &self.order {
            None => {
                let reader = FindingsReader::open(path).map_err(|e| report_err(path, e))?;
                for (n, r) in reader.enumerate() {
                    let finding = r.map_err(|e| report_err(path, e))?;
                    f(n, &finding)?;
                }
            }
            Some(order) => {
                let file = self.open_findings()?;
                for (n, &i) in order.iter().enumerate() {
                    f(n, &self.finding_at(&file, i)?)?;
                }
            }
        }
        Ok(())
    }

    pub fn open_findings(&self) -> Result<File, ExportError> {
        File::open(&self.findings_path).map_err(|e| read_err(&self.findings_path, e))
    }

    /// The finding with file index `fidx`, re-read from its line.
    pub fn finding_at(&self, file: &File, fidx: u32) -> Result<Finding, ExportError> {
        let p = self.entries[fidx as usize].pos;
        exhunt_report::read_finding_at(file, &self.findings_path, p.offset, p.len as usize)
            .map_err(|e| report_err(&self.findings_path, e))
    }
}

impl ContextIndex {
    /// A reader of single context rows (one CSV parser for all of them: building one per row
    /// costs more than parsing the row).
    pub fn rows(&self) -> Result<RowReader<'_>, ExportError> {
        let file = File::open(&self.path).map_err(|e| read_err(&self.path, e))?;
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(Window {
                file,
                pos: 0,
                end: 0,
            });
        // The parser looks for a header once, before its first seek: let it find none here.
        rdr.byte_headers().map_err(|e| read_err(&self.path, e))?;
        Ok(RowReader {
            index: self,
            rdr,
            rec: csv::StringRecord::new(),
        })
    }
}

/// A byte range of a file, read by position.
struct Window {
    file: File,
    pos: u64,
    end: u64,
}

impl Read for Window {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min((self.end.saturating_sub(self.pos)) as usize);
        exhunt_report::read_exact_at(&self.file, &mut buf[..n], self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for Window {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        match to {
            SeekFrom::Start(p) => self.pos = p,
            _ => return Err(io::Error::other("only absolute seeks")),
        }
        Ok(self.pos)
    }
}

pub(crate) struct RowReader<'a> {
    index: &'a ContextIndex,
    rdr: csv::Reader<Window>,
    rec: csv::StringRecord,
}

impl RowReader<'_> {
    /// Context row `i`, re-read and re-parsed from its bytes.
    pub fn row(&mut self, i: usize) -> Result<ContextEvent, ExportError> {
        let p = self.index.rows[i].pos;
        let path = &self.index.path;
        let err = |reason: String| read_err(path, format!("at byte {}: {reason}", p.offset));
        self.rdr.get_mut().end = p.offset + u64::from(p.len);
        self.rdr
            .seek_raw(SeekFrom::Start(p.offset), csv::Position::new())
            .map_err(|e| err(e.to_string()))?;
        match self.rdr.read_record(&mut self.rec) {
            Ok(true) => {}
            Ok(false) => return Err(err("no record here (did the file change?)".into())),
            Err(e) => return Err(err(e.to_string())),
        }
        match context_of(&self.rec, &self.index.cols).map_err(err)? {
            Some(c) => Ok(c),
            None => Err(err("not a context row (did the file change?)".into())),
        }
    }
}

/// The context event of a `timeline.csv` row, `None` for other rows.
fn context_of(
    rec: &csv::StringRecord,
    cols: &ContextColumns,
) -> Result<Option<ContextEvent>, String> {
    let get = |c: Option<usize>| c.and_then(|c| rec.get(c)).map(unneutralise).unwrap_or("");
    if get(Some(cols.kind)) != "context" {
        return Ok(None);
    }
    let time = match get(Some(cols.time)) {
        "" => None,
        t => Some(
            DateTime::parse_from_rfc3339(t)
                .map_err(|e| format!("datetime {t:?}: {e}"))?
                .with_timezone(&Utc),
        ),
    };
    let msg = get(cols.msg);
    Ok(Some(ContextEvent {
        time,
        path: get(cols.path).to_string(),
        line: get(cols.line).parse().ok(),
        record: get(cols.record).parse().ok(),
        source: msg.strip_prefix("[context] ").unwrap_or(msg).to_string(),
        excerpt: get(cols.excerpt).to_string(),
    }))
}

/// Index the context rows of `timeline.csv`; a row that does not parse is an error naming it.
fn index_context(path: &Path) -> Result<(ContextIndex, Interner), String> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .map_err(|e| e.to_string())?;
    let headers = rdr.headers().map_err(|e| e.to_string())?.clone();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (Some(kind), Some(time)) = (col("kind"), col("datetime")) else {
        return Err("no `kind` or `datetime` column".into());
    };
    let cols = ContextColumns {
        kind,
        time,
        msg: col("message"),
        path: col("path"),
        line: col("line"),
        record: col("record"),
        excerpt: col("excerpt"),
    };
    let mut rows = Vec::new();
    let mut paths = Interner::default();
    let mut rec = csv::StringRecord::new();
    let mut i = 0usize;
    loop {
        let start = rdr.position().byte();
        let more = rdr
            .read_record(&mut rec)
            .map_err(|e| format!("row {}: {e}", i + 2))?;
        if !more {
            break;
        }
        let end = rdr.position().byte();
        if let Some(c) = context_of(&rec, &cols).map_err(|e| format!("row {}: {e}", i + 2))? {
            let len = u32::try_from(end - start)
                .map_err(|_| format!("row {}: longer than 4 GiB", i + 2))?;
            rows.push(ContextEntry {
                pos: Pos { offset: start, len },
                time: c.time,
                path: paths.id(&c.path),
                line_or_record: c.line.or(c.record),
            });
        }
        i += 1;
    }
    Ok((
        ContextIndex {
            path: path.to_path_buf(),
            cols,
            rows,
        },
        paths,
    ))
}

/// The order `exhunt_report::sort_findings` puts findings in.
fn cmp_findings(a: &Finding, b: &Finding) -> Ordering {
    fn ev(f: &Finding) -> (&str, Option<u64>, Option<u64>) {
        f.evidence
            .first()
            .map(|e| (e.path.as_str(), e.line, e.record))
            .unwrap_or_default()
    }
    a.time
        .cmp(&b.time)
        .then_with(|| a.rule.id.cmp(&b.rule.id))
        .then_with(|| ev(a).cmp(&ev(b)))
        .then_with(|| a.id.cmp(&b.id))
}

/// How a finding ranks as key evidence, lower is better: worst level, then timed, then
/// earliest.
type KeyScore = (Reverse<u8>, bool, Option<DateTime<Utc>>);

/// Aggregates being gathered; what depends on the findings' order is kept by file index and
/// settled once the order is known.
#[derive(Default)]
struct Gather {
    agg: Aggregates,
    uses: TechniqueUses,
    tools: Vec<Vec<(u32, String)>>,
    /// Per phase: the best score so far and the findings that tie on it.
    key: Vec<Option<(KeyScore, Vec<u32>)>>,
    id_hashes: HashSet<u64>,
    attackers: BTreeSet<String>,
    strings: Interner,
}

impl Gather {
    fn new(summary: &Summary) -> Self {
        Gather {
            agg: Aggregates {
                ids_unique: true,
                ..Aggregates::default()
            },
            tools: vec![Vec::new(); TOOLS.len()],
            key: vec![None; PHASES.len()],
            attackers: summary
                .verdict
                .attacker_addresses
                .iter()
                .map(|a| a.address.clone())
                .collect(),
            ..Gather::default()
        }
    }

    /// Take in a finding; returns what its index entry keeps of it for the chart: (phases,
    /// level, title, client address).
    fn add(&mut self, fidx: u32, f: &Finding) -> (u8, u32, u32, u32) {
        let ip = source_ip(f);
        let a = &mut self.agg;
        a.count += 1;
        if let Some(t) = f.time {
            a.timed += 1;
            a.first = Some(a.first.map_or(t, |x| x.min(t)));
            a.last = Some(a.last.map_or(t, |x| x.max(t)));
        }
        if let Some(h) = &f.host
            && !a.hosts.contains(h)
        {
            a.hosts.insert(h.clone());
        }
        self.uses.add(f);

        let mut hay = f.rule.title.to_ascii_lowercase();
        for n in [
            "CommandLine",
            "ParentCommandLine",
            "Image",
            "TargetFilename",
        ] {
            if let Some(v) = f.fields.get(n).and_then(Value::as_str) {
                hay.push('\n');
                hay.push_str(&v.to_ascii_lowercase());
            }
        }
        for (i, (_, _, _, keys)) in TOOLS.iter().enumerate() {
            if keys.iter().any(|k| hay.contains(k)) {
                self.tools[i].push((fidx, f.id.clone()));
            }
        }

        let score = (Reverse(level_rank(&f.rule.level)), f.time.is_none(), f.time);
        let phases = phases_of(&f.tags);
        let mut phase_bits = 0u8;
        for (i, p) in PHASES.iter().enumerate() {
            if !phases.contains(p) {
                continue;
            }
            phase_bits |= 1 << i;
            match &mut self.key[i] {
                Some((best, ties)) if *best == score => ties.push(fidx),
                Some((best, _)) if *best < score => {}
                slot => *slot = Some((score, vec![fidx])),
            }
        }

        if let Some(ip) = &ip
            && self.attackers.contains(ip)
        {
            a.by_ip.entry(ip.clone()).or_default().add(f);
        }
        let webshell = f
            .tags
            .iter()
            .any(|t| t.to_ascii_lowercase().starts_with("attack.t1505"));
        if webshell && let Some(h) = file_sha256(f) {
            let e = a.by_hash.entry(h).or_default();
            e.0.add(f);
            if let Some(p) = crate::field(f, &["FileName", "TargetFilename", "Path"]) {
                let base = p.rsplit(['/', '\\']).next().unwrap_or(p);
                e.1.insert(base.to_string());
            }
        }
        let mut h = DefaultHasher::new();
        f.id.hash(&mut h);
        if !self.id_hashes.insert(h.finish()) {
            // Or a hash collision: either way the outputs then take the exact, slower path.
            a.ids_unique = false;
        }
        (
            phase_bits,
            self.strings.id(&f.rule.level),
            self.strings.id(&f.rule.title),
            ip.map_or(NONE, |ip| self.strings.id(&ip)),
        )
    }
}

/// Read `dir`'s inputs: errors name the file (and line or row); problems with optional inputs
/// become warnings.
/// `timeline.csv` is only indexed when `with_context` (timeline.jsonl is to be written).
pub(crate) fn read_input(
    dir: &Path,
    warnings: &mut Vec<String>,
    with_context: bool,
) -> Result<Input, ExportError> {
    let fpath = dir.join("findings.jsonl");
    let spath = dir.join("summary.json");
    let summary = match std::fs::read_to_string(&spath) {
        Ok(text) => match serde_json::from_str::<Summary>(&text) {
            Ok(s) => s,
            Err(e) => {
                // A broken findings.jsonl is the first thing to report, as before.
                count_findings(&fpath)?;
                return Err(read_err(&spath, e));
            }
        },
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            warnings.push(
                "summary.json is missing: verdict recomputed from the findings; artifacts and \
                 scan warnings are not available"
                    .into(),
            );
            fallback_summary(&fpath)?
        }
        Err(e) => {
            count_findings(&fpath)?;
            return Err(read_err(&spath, e));
        }
    };

    let tpath = dir.join("timeline.csv");
    let has_timeline = with_context && tpath.exists();
    // The two big inputs are independent: read them side by side.
    let (findings, context) = std::thread::scope(|s| {
        let context = has_timeline.then(|| s.spawn(|| index_context(&tpath)));
        let findings = scan_findings(&fpath, &summary);
        let context = context.map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        (findings, context)
    });
    let (entries, order, agg, finding_paths, strings) = findings?;
    let (context, context_paths) = match context {
        Some(r) => {
            let (c, p) = r.map_err(|reason| read_err(&tpath, reason))?;
            (Some(c), p)
        }
        None => {
            if with_context {
                warnings.push("timeline.csv is missing: no context events".into());
            }
            (None, Interner::default())
        }
    };
    let (finding_path_rank, context_path_rank) = rank_paths(&finding_paths, &context_paths);

    let attribution = read_optional(&dir.join("attribution.json"), warnings);
    let exposure = read_optional(&dir.join("exposure.json"), warnings);
    Ok(Input {
        findings_path: fpath,
        entries,
        order,
        agg,
        summary,
        context,
        finding_path_rank,
        context_path_rank,
        strings: strings.names,
        attribution,
        exposure,
    })
}

/// Ranks of the interned strings of both interners in one string order.
fn rank_paths(a: &Interner, b: &Interner) -> (Vec<u32>, Vec<u32>) {
    let mut all: Vec<&str> = a.names.iter().chain(&b.names).map(String::as_str).collect();
    all.sort_unstable();
    all.dedup();
    let rank = |names: &[String]| -> Vec<u32> {
        names
            .iter()
            .map(|n| all.binary_search(&n.as_str()).unwrap_or(0) as u32)
            .collect()
    };
    (rank(&a.names), rank(&b.names))
}

type Scanned = (
    Vec<FindingEntry>,
    Option<Vec<u32>>,
    Aggregates,
    Interner,
    Interner,
);

/// The one full pass over `findings.jsonl`: index, order and aggregates.
fn scan_findings(path: &Path, summary: &Summary) -> Result<Scanned, ExportError> {
    // Nothing gathered here reads the excerpts.
    let mut reader = FindingsReader::open(path)
        .map_err(|e| report_err(path, e))?
        .without_excerpts();
    let mut entries: Vec<FindingEntry> = Vec::new();
    let mut paths = Interner::default();
    let mut gather = Gather::new(summary);
    // Where a finding sorts before the one above it, and whether the times at least never go
    // down (exhunt writes files sorted on full-precision times, so findings within the same
    // millisecond may come out of order once read back).
    let mut disorders: Vec<u32> = Vec::new();
    let mut time_sorted = true;
    let mut prev: Option<Finding> = None;
    while let Some(r) = reader.next_with_offset() {
        let (f, offset, len) = r.map_err(|e| report_err(path, e))?;
        let fidx = u32::try_from(entries.len())
            .map_err(|_| read_err(path, "more than 4 billion findings"))?;
        let ev = f.evidence.first();
        let (phases, level, title, ip) = gather.add(fidx, &f);
        entries.push(FindingEntry {
            pos: Pos {
                offset,
                len: len as u32, // lines are capped at 64 MiB by the reader
            },
            time: f.time,
            rank: level_rank(&f.rule.level),
            path: paths.id(ev.map(|e| e.path.as_str()).unwrap_or("")),
            line_or_record: ev.and_then(|e| e.line.or(e.record)),
            phases,
            level,
            title,
            ip,
        });
        if let Some(p) = &prev
            && cmp_findings(p, &f) == Ordering::Greater
        {
            disorders.push(fidx);
            time_sorted &= p.time <= f.time;
        }
        prev = Some(f);
    }
    drop(prev);
    let order = if disorders.is_empty() {
        None
    } else if time_sorted {
        Some(sort_runs(path, &entries, &disorders)?)
    } else {
        Some(sort_order(path, &entries)?)
    };
    let inverse = order.as_ref().map(|o| {
        let mut inv = vec![0u32; o.len()];
        for (seq, &fidx) in o.iter().enumerate() {
            inv[fidx as usize] = seq as u32;
        }
        inv
    });
    let seq = |fidx: u32| inverse.as_ref().map_or(fidx, |inv| inv[fidx as usize]);

    let Gather {
        mut agg,
        uses,
        tools,
        key,
        strings,
        ..
    } = gather;
    agg.uses = uses.finish();
    agg.tools = TOOLS
        .iter()
        .zip(tools)
        .filter(|(_, ids)| !ids.is_empty())
        .map(|((name, malware, sid, _), mut ids)| {
            ids.sort_by_key(|(fidx, _)| seq(*fidx));
            ToolSeen {
                name,
                malware: *malware,
                software_id: *sid,
                finding_ids: ids.into_iter().map(|(_, id)| id).collect(),
            }
        })
        .collect();

    let file = File::open(path).map_err(|e| read_err(path, e))?;
    let reread = |fidx: u32| {
        let p = entries[fidx as usize].pos;
        exhunt_report::read_finding_at(&file, path, p.offset, p.len as usize)
            .map_err(|e| report_err(path, e))
    };
    for (phase, slot) in PHASES.iter().zip(key) {
        // Ties go to the finding first in findings order, as a `min_by` over them would.
        if let Some((_, ties)) = slot
            && let Some(&fidx) = ties.iter().min_by_key(|&&i| seq(i))
        {
            agg.key_evidence.push((phase, reread(fidx)?));
        }
    }
    agg.shown = shown(&entries, order.as_deref());
    Ok((entries, order, agg, paths, strings))
}

/// The findings report.html lists: all of them, or the [`MAX_HTML_FINDINGS`] most severe,
/// earlier first among equally severe; as (position in findings order, file index), in order.
fn shown(entries: &[FindingEntry], order: Option<&[u32]>) -> Vec<(usize, u32)> {
    let in_order = |n: usize| order.map_or(n as u32, |o| o[n]);
    let all = (0..entries.len()).map(|n| (n, in_order(n)));
    if entries.len() <= MAX_HTML_FINDINGS {
        return all.collect();
    }
    let mut per_rank = [0usize; 256];
    for e in entries {
        per_rank[e.rank as usize] += 1;
    }
    // Whole levels from the worst down, then the first `partial` of the level that overflows.
    let mut left = MAX_HTML_FINDINGS;
    let mut cut_rank = 0u8;
    let mut partial = 0usize;
    for r in (0..=255u8).rev() {
        let n = per_rank[r as usize];
        if n >= left {
            cut_rank = r;
            partial = left;
            break;
        }
        left -= n;
    }
    let mut taken = 0usize;
    all.filter(|&(_, fidx)| {
        let r = entries[fidx as usize].rank;
        if r > cut_rank {
            true
        } else if r == cut_rank && taken < partial {
            taken += 1;
            true
        } else {
            false
        }
    })
    .collect()
}

/// File indexes in findings order, for a file not already in it: by time (stable), then runs
/// of equal time by the rest of the key.
fn sort_order(path: &Path, entries: &[FindingEntry]) -> Result<Vec<u32>, ExportError> {
    let mut order: Vec<u32> = (0..entries.len() as u32).collect();
    order.sort_by_key(|&i| entries[i as usize].time);
    let file = File::open(path).map_err(|e| read_err(path, e))?;
    let mut start = 0;
    while start < order.len() {
        let end = run_end(entries, &order, start);
        sort_run(&file, path, entries, &mut order[start..end])?;
        start = end;
    }
    Ok(order)
}

/// File indexes in findings order, for a file whose times never go down: only the runs of
/// equal time holding a disorder need sorting.
fn sort_runs(
    path: &Path,
    entries: &[FindingEntry],
    disorders: &[u32],
) -> Result<Vec<u32>, ExportError> {
    let mut order: Vec<u32> = (0..entries.len() as u32).collect();
    let file = File::open(path).map_err(|e| read_err(path, e))?;
    let mut done = 0; // runs end at or before this index are sorted
    for &d in disorders {
        let d = d as usize;
        if d < done {
            continue;
        }
        let t = entries[d].time;
        let mut start = d;
        while start > 0 && entries[start - 1].time == t {
            start -= 1;
        }
        let end = run_end(entries, &order, start);
        sort_run(&file, path, entries, &mut order[start..end])?;
        done = end;
    }
    Ok(order)
}

/// End of the run of equal times that starts at `start` of `order`.
fn run_end(entries: &[FindingEntry], order: &[u32], start: usize) -> usize {
    let t = entries[order[start] as usize].time;
    let mut end = start + 1;
    while end < order.len() && entries[order[end] as usize].time == t {
        end += 1;
    }
    end
}

/// Sort a run of findings of equal time by the rest of the key, re-read from disk.
fn sort_run(
    file: &File,
    path: &Path,
    entries: &[FindingEntry],
    run: &mut [u32],
) -> Result<(), ExportError> {
    if run.len() < 2 {
        return Ok(());
    }
    let mut keyed: Vec<(Finding, u32)> = Vec::with_capacity(run.len());
    for &i in run.iter() {
        let p = entries[i as usize].pos;
        let f = exhunt_report::read_finding_at(file, path, p.offset, p.len as usize)
            .map_err(|e| report_err(path, e))?;
        keyed.push((slim(f), i));
    }
    // Stable: equal keys keep their file order.
    keyed.sort_by(|a, b| cmp_findings(&a.0, &b.0));
    for (slot, (_, i)) in run.iter_mut().zip(keyed) {
        *slot = i;
    }
    Ok(())
}

/// A finding reduced to its sort key (the run being sorted may be large).
fn slim(mut f: Finding) -> Finding {
    f.fields = serde_json::Map::new();
    f.tags = Vec::new();
    f.evidence.truncate(1);
    if let Some(e) = f.evidence.first_mut() {
        e.excerpt = String::new();
    }
    f
}

/// Check `findings.jsonl` reads (for its error to come first); returns the number of findings.
fn count_findings(path: &Path) -> Result<usize, ExportError> {
    let mut n = 0;
    let reader = FindingsReader::open(path).map_err(|e| report_err(path, e))?;
    for r in reader.without_excerpts() {
        r.map_err(|e| report_err(path, e))?;
        n += 1;
    }
    Ok(n)
}

/// The summary when `summary.json` is missing: the verdict and counts from the findings.
fn fallback_summary(path: &Path) -> Result<Summary, ExportError> {
    let mut by_level: BTreeMap<String, u64> = BTreeMap::new();
    let mut by_rule: BTreeMap<String, u64> = BTreeMap::new();
    let mut by_tag: BTreeMap<String, u64> = BTreeMap::new();
    let mut verdict = exhunt_report::VerdictBuilder::default();
    let mut total = 0u64;
    let reader = FindingsReader::open(path).map_err(|e| report_err(path, e))?;
    for r in reader.without_excerpts() {
        let f = r.map_err(|e| report_err(path, e))?;
        total += 1;
        *by_level.entry(f.rule.level.clone()).or_default() += 1;
        *by_rule.entry(f.rule.title.clone()).or_default() += 1;
        for t in &f.tags {
            *by_tag.entry(t.clone()).or_default() += 1;
        }
        verdict.add(&f);
    }
    Ok(Summary {
        tool: "exhunt".into(),
        version: String::new(),
        roots: Vec::new(),
        verdict: verdict.finish(),
        artifacts_read: 0,
        events_parsed: 0,
        bytes_read: 0,
        artifacts_by_kind: BTreeMap::new(),
        rules_loaded: 0,
        rule_problems: Vec::new(),
        findings_total: total,
        findings_by_level: by_level,
        findings_by_rule: by_rule,
        findings_by_tag: by_tag,
        findings_dropped: BTreeMap::new(),
        artifacts: Vec::new(),
        warnings: Vec::new(),
    })
}

fn read_optional(path: &Path, warnings: &mut Vec<String>) -> Option<Value> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("?");
    match std::fs::read_to_string(path) {
        Ok(text) => match serde_json::from_str::<Value>(&text) {
            Ok(v) if v.is_object() => Some(v),
            Ok(_) => {
                warnings.push(format!("{name} is not a JSON object: ignored"));
                None
            }
            Err(e) => {
                warnings.push(format!("{name} is not valid JSON ({e}): ignored"));
                None
            }
        },
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => {
            warnings.push(format!("cannot read {name}: {e}"));
            None
        }
    }
}
