//! Finding and reading records: which missions exist, where their
//! workspaces are, which mission holds a work order, and loading work
//! orders from a mission's `.orc/`.
//!
//! Mission records are located through the ledger (it knows every mission
//! and its workspace); work orders are read from the workspace files, which
//! are the working copy agents edit.

use std::collections::HashMap;
use std::path::PathBuf;

use serde::Serialize;

use super::session::{Context, Session};
use crate::error::{Error, Kind, Result};
use crate::model::{
    Assignment, Grove, GroveId, GroveStatus, Mission, MissionId, MissionStatus, Shown, Status,
    WorkOrder, WorkOrderId,
};
use crate::store::OrcDir;
use crate::store::orcdir::{
    self, ASSIGNMENT_FILE, GROVE_FILE, MISSION_FILE, WORK_ORDERS_DIR, decode_record,
    mission_prefix, read_record, read_record_opt, work_order_rel,
};

/// A file that could not be used, shown as an error row by list commands.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Problem {
    pub file: PathBuf,
    pub error: String,
}

impl Problem {
    fn from_error(file: PathBuf, err: &Error) -> Self {
        let prefix = format!("{}: ", file.display());
        let error = err
            .message
            .strip_prefix(&prefix)
            .unwrap_or(&err.message)
            .to_string();
        Problem { file, error }
    }
}

/// The ledger path of a mission's record.
pub fn mission_ledger_path(id: MissionId) -> String {
    format!("{}/{MISSION_FILE}", mission_prefix(id))
}

/// The ledger path of a work order.
pub fn work_order_ledger_path(mission: MissionId, id: WorkOrderId) -> String {
    format!("{}/{}", mission_prefix(mission), work_order_rel(id))
}

impl Session {
    /// Every mission on the ledger, in id order; records that cannot be
    /// read are returned as problems.
    pub fn missions(&self) -> Result<(Vec<Mission>, Vec<Problem>)> {
        // Without a ledger nothing exists: say so, not "no such thing".
        self.ledger.require_tip()?;
        let mut missions = Vec::new();
        let mut problems = Vec::new();
        for entry in self.ledger.list("missions")? {
            let Ok(id) = MissionId::parse(&entry.name) else {
                continue;
            };
            match self.ledger_mission(id) {
                Ok(m) => missions.push(m),
                Err(e) => problems.push(Problem::from_error(
                    PathBuf::from(format!(
                        "{}:{}",
                        self.ledger.branch(),
                        mission_ledger_path(id)
                    )),
                    &e,
                )),
            }
        }
        missions.sort_by_key(|m| m.id);
        Ok((missions, problems))
    }

    /// A mission's record as the ledger has it.
    pub fn ledger_mission(&self, id: MissionId) -> Result<Mission> {
        // Without a ledger nothing exists: say so, not "no such thing".
        self.ledger.require_tip()?;
        let path = mission_ledger_path(id);
        let shown = PathBuf::from(format!("{}:{path}", self.ledger.branch()));
        let bytes = self.ledger.read(&path)?.ok_or_else(|| {
            Error::not_found(format!("{id} does not exist"))
                .with_hint("`orc mission list` shows the missions")
        })?;
        decode_record(&shown, &bytes, |m: &Mission| m.validate(Some(id)))
    }

    /// The `.orc/` of a mission's workspace, which must exist.
    pub fn mission_dir(&self, id: MissionId) -> Result<OrcDir> {
        if let Context::Mission { id: here, dir } = &self.context
            && *here == id
        {
            // The directory's config names the mission; the ledger must
            // know it (a config edited by hand may name any).
            if let Some(tip) = self.ledger.tip()?
                && self
                    .ledger
                    .entry_at(tip, &mission_ledger_path(id))?
                    .is_none()
            {
                return Err(Error::not_found(format!("{id} does not exist")).with_hint(format!(
                    "{} names it; fix that file by hand (`orc mission list` shows the missions)",
                    dir.path(orcdir::CONFIG_FILE).display()
                )));
            }
            return Ok(dir.clone());
        }
        let mission = self.ledger_mission(id)?;
        let dir = OrcDir::of_mission(std::path::Path::new(&mission.workspace), id);
        if !dir.present()? {
            return Err(Error::environment(format!(
                "the workspace of {id} is missing: {} does not exist",
                dir.root().display()
            ))
            .with_hint(format!(
                "it was moved or deleted; `orc restore {id}` rebuilds it from the ledger"
            )));
        }
        Ok(dir)
    }

    /// The mission a command is about: the explicit one, else the
    /// directory's, else the only active one.
    pub fn resolve_mission(&self, explicit: Option<MissionId>) -> Result<MissionId> {
        if let Some(id) = explicit {
            return Ok(id);
        }
        if let Some(id) = self.context_mission() {
            return Ok(id);
        }
        let (missions, _) = self.missions()?;
        let active: Vec<MissionId> = missions
            .iter()
            .filter(|m| m.status == MissionStatus::Active)
            .map(|m| m.id)
            .collect();
        match active.as_slice() {
            [one] => Ok(*one),
            [] => Err(Error::not_found("there is no active mission")
                .with_hint("create one with `orc mission create TITLE`")),
            many => Err(Error::usage(format!(
                "several missions are active ({}); say which with --mission",
                many.iter()
                    .map(|m| m.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// The mission holding work order `id`, and its `.orc/`.
    pub fn locate_work_order(&self, id: WorkOrderId) -> Result<(MissionId, OrcDir)> {
        // Without a ledger nothing exists: say so, not "no such thing".
        self.ledger.require_tip()?;
        let rel = work_order_rel(id);
        if let Some(m) = self.context_mission()
            && let Ok(dir) = self.mission_dir(m)
        {
            dir.check_subdir(WORK_ORDERS_DIR)?;
            if std::fs::symlink_metadata(dir.path(&rel)).is_ok() {
                return Ok((m, dir));
            }
        }
        let (missions, _) = self.missions()?;
        // A workspace whose work-orders directory is broken cannot say
        // whether it holds the work order: that, rather than "does not
        // exist", is the answer if no other workspace has it.
        let mut broken = None;
        for mission in missions {
            let dir = OrcDir::of_mission(std::path::Path::new(&mission.workspace), mission.id);
            if let Err(e) = dir.check_subdir(WORK_ORDERS_DIR) {
                broken.get_or_insert(e);
                continue;
            }
            if std::fs::symlink_metadata(dir.path(&rel)).is_ok() {
                dir.present()?;
                return Ok((mission.id, dir));
            }
        }
        if let Some(e) = broken {
            return Err(e);
        }
        Err(Error::not_found(format!("{id} does not exist"))
            .with_hint("`orc wo list` shows the work orders"))
    }
}

/// The checks of a work order file `name` in the mission workspace `dir`:
/// valid, and of the workspace's mission.
pub fn check_work_order(
    wo: &WorkOrder,
    name: &str,
    dir: &OrcDir,
) -> std::result::Result<(), String> {
    wo.validate(name)?;
    if let Some(m) = dir.mission()
        && wo.mission != m
    {
        return Err(format!(
            "field `mission`: {} is in the workspace of {m} (a work order stays in the mission it was created in)",
            wo.mission
        ));
    }
    Ok(())
}

/// The checks of the `mission.json` of mission `id` in its workspace
/// `dir`: valid, of this mission, and naming this workspace.
pub fn check_mission_file(
    m: &Mission,
    id: MissionId,
    dir: &OrcDir,
) -> std::result::Result<(), String> {
    m.validate(Some(id))?;
    let here = dir.owner();
    if !same_dir(std::path::Path::new(&m.workspace), here) {
        return Err(format!(
            "field `workspace`: {:?} is not this workspace ({}); orc maintains this field",
            crate::model::id::shorten(&m.workspace),
            here.display()
        ));
    }
    Ok(())
}

/// The checks of a message file `name` in the inbox of `inbox_of`
/// (`deputy` or a grove id): valid, and addressed to the inbox's owner.
pub fn check_message_file(
    m: &crate::model::Message,
    name: &str,
    inbox_of: &str,
) -> std::result::Result<(), String> {
    m.validate(name)?;
    if m.to != inbox_of {
        return Err(format!(
            "field `to`: the message is for {} but is in the inbox of {inbox_of} (a message is kept in its recipient's inbox)",
            m.to
        ));
    }
    Ok(())
}

/// Whether two paths name the same directory (links resolved).
fn same_dir(a: &std::path::Path, b: &std::path::Path) -> bool {
    a == b
        || matches!(
            (std::fs::canonicalize(a), std::fs::canonicalize(b)),
            (Ok(x), Ok(y)) if x == y
        )
}

/// Reads one work order from a mission's `.orc/`.
pub fn read_work_order(dir: &OrcDir, id: WorkOrderId) -> Result<WorkOrder> {
    dir.check_subdir(WORK_ORDERS_DIR)?;
    let path = dir.path(&work_order_rel(id));
    let name = id.file_name();
    read_record(&path, |wo: &WorkOrder| check_work_order(wo, &name, dir)).map_err(|e| {
        if e.kind == Kind::NotFound {
            Error::not_found(format!(
                "{id} does not exist ({} is missing)",
                path.display()
            ))
        } else {
            e
        }
    })
}

/// All work orders of a mission, with the files that could not be read.
#[derive(Debug, Default)]
pub struct Loaded {
    pub orders: Vec<WorkOrder>,
    pub problems: Vec<Problem>,
    status: HashMap<WorkOrderId, Status>,
    /// Index into `orders` of each work order's children, in id order.
    children: HashMap<WorkOrderId, Vec<usize>>,
}

impl Loaded {
    /// Reads every file in `work-orders/`, in id order, on all cores.
    pub fn read(dir: &OrcDir) -> Result<Loaded> {
        let names = dir.list(WORK_ORDERS_DIR)?;
        if names.is_empty() {
            return Ok(Loaded::default());
        }
        let wo_dir = dir.path(WORK_ORDERS_DIR);
        let handle = crate::store::fsio::Dir::open(&wo_dir)
            .map_err(|e| Error::io("cannot open", &wo_dir, e))?;
        let read_one = |name: &String| -> std::result::Result<WorkOrder, Problem> {
            let path = wo_dir.join(name);
            let named = name
                .strip_suffix(".json")
                .and_then(|stem| WorkOrderId::parse(stem).ok())
                .is_some_and(|id| id.file_name() == *name);
            if !named {
                return Err(Problem {
                    file: path,
                    error: "unexpected file name (work order files are named WO-<digits>.json, such as WO-001.json)".into(),
                });
            }
            handle
                .read(name)
                .map_err(|e| e.into_error(&path))
                .and_then(|bytes| {
                    decode_record(&path, &bytes, |wo: &WorkOrder| {
                        check_work_order(wo, name, dir)
                    })
                })
                .map_err(|e| Problem::from_error(path, &e))
        };
        let workers = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(8);
        let results: Vec<std::result::Result<WorkOrder, Problem>> = if names.len() < 64
            || workers < 2
        {
            names.iter().map(read_one).collect()
        } else {
            let chunk = names.len().div_ceil(workers);
            std::thread::scope(|scope| {
                let handles: Vec<_> = names
                    .chunks(chunk)
                    .map(|part| scope.spawn(move || part.iter().map(read_one).collect::<Vec<_>>()))
                    .collect();
                handles
                    .into_iter()
                    .flat_map(|h| h.join().expect("a reader thread panicked"))
                    .collect()
            })
        };
        let mut loaded = Loaded::default();
        for r in results {
            match r {
                Ok(wo) => loaded.orders.push(wo),
                Err(p) => loaded.problems.push(p),
            }
        }
        loaded.orders.sort_by_key(|wo| wo.id);
        loaded.status = loaded.orders.iter().map(|wo| (wo.id, wo.status)).collect();
        for (i, wo) in loaded.orders.iter().enumerate() {
            if let Some(parent) = wo.parent {
                loaded.children.entry(parent).or_default().push(i);
            }
        }
        Ok(loaded)
    }

    pub fn get(&self, id: WorkOrderId) -> Option<&WorkOrder> {
        self.orders
            .binary_search_by_key(&id, |wo| wo.id)
            .ok()
            .map(|i| &self.orders[i])
    }

    /// How a work order shows: `waiting` while a dependency is not done.
    pub fn shown(&self, wo: &WorkOrder) -> Shown {
        wo.shown(|dep| self.status.get(&dep) == Some(&Status::Done))
    }

    /// Work that can start now: ready, dependencies done, by priority
    /// (critical first), then by id.
    pub fn ready(&self) -> Vec<&WorkOrder> {
        let mut ready: Vec<&WorkOrder> = self
            .orders
            .iter()
            .filter(|wo| self.shown(wo) == Shown::Is(Status::Ready))
            .collect();
        ready.sort_by_key(|wo| (std::cmp::Reverse(wo.priority), wo.id));
        ready
    }

    /// The direct children of `id`.
    pub fn children(&self, id: WorkOrderId) -> impl Iterator<Item = &WorkOrder> {
        self.children
            .get(&id)
            .into_iter()
            .flatten()
            .map(|&i| &self.orders[i])
    }
}

/// Where mission workspaces of this repository go by default:
/// `<missions_root>/<repo name>-<hash of the repository path>`, so missions
/// of two repositories never share a directory.
pub fn repo_slug(common_dir: &std::path::Path) -> String {
    let base = if common_dir.file_name().is_some_and(|n| n == ".git") {
        common_dir.parent().unwrap_or(common_dir)
    } else {
        common_dir
    };
    let name: String = base
        .file_name()
        .map(|n| n.to_string_lossy().trim_end_matches(".git").to_string())
        .unwrap_or_else(|| "repo".into())
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    // FNV-1a: stable across Rust versions, unlike the std hasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in common_dir.as_os_str().as_encoded_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{name}-{:08x}", hash as u32)
}

/// The ledger-relative path of a file inside a mission's `.orc/`.
pub fn mission_file_ledger_path(mission: MissionId, rel: &str) -> String {
    format!("{}/{rel}", orcdir::mission_prefix(mission))
}

/// The ledger path of a file inside a grove's `.orc/`.
pub fn grove_ledger_path(grove: GroveId, rel: &str) -> String {
    format!("{}/{rel}", orcdir::grove_prefix(grove))
}

impl Session {
    /// Every grove on the ledger (removed ones included), in id order.
    pub fn groves(&self) -> Result<(Vec<Grove>, Vec<Problem>)> {
        // Without a ledger nothing exists: say so, not "no such thing".
        self.ledger.require_tip()?;
        let mut groves = Vec::new();
        let mut problems = Vec::new();
        for entry in self.ledger.list("groves")? {
            let Ok(id) = GroveId::parse(&entry.name) else {
                continue;
            };
            match self.ledger_grove(id) {
                Ok(g) => groves.push(g),
                Err(e) => problems.push(Problem::from_error(
                    PathBuf::from(format!(
                        "{}:{}",
                        self.ledger.branch(),
                        grove_ledger_path(id, GROVE_FILE)
                    )),
                    &e,
                )),
            }
        }
        groves.sort_by_key(|g| g.id);
        Ok((groves, problems))
    }

    /// A grove's record as the ledger has it.
    pub fn ledger_grove(&self, id: GroveId) -> Result<Grove> {
        // Without a ledger nothing exists: say so, not "no such thing".
        self.ledger.require_tip()?;
        let path = grove_ledger_path(id, GROVE_FILE);
        let shown = PathBuf::from(format!("{}:{path}", self.ledger.branch()));
        let bytes = self.ledger.read(&path)?.ok_or_else(|| {
            Error::not_found(format!("{id} does not exist"))
                .with_hint("`orc grove list` shows the groves")
        })?;
        decode_record(&shown, &bytes, |g: &Grove| g.validate(Some(id)))
    }

    /// The `.orc/` of a grove, which must exist.
    pub fn grove_dir(&self, id: GroveId) -> Result<OrcDir> {
        if let Context::Grove { id: here, dir, .. } = &self.context
            && *here == id
        {
            return Ok(dir.clone());
        }
        let grove = self.ledger_grove(id)?;
        let dir = OrcDir::in_dir(std::path::Path::new(&grove.path));
        if !dir.present()? {
            return Err(Error::environment(format!(
                "the worktree of {id} is missing: {} does not exist",
                dir.root().display()
            ))
            .with_hint(format!(
                "`orc restore {id}` brings it back from the ledger; `orc grove remove {id} --force` forgets the grove"
            )));
        }
        Ok(dir)
    }

    /// A grove named on the command line: `GROVE-001`, or its name.
    pub fn resolve_grove(&self, text: &str) -> Result<GroveId> {
        if let Ok(id) = GroveId::parse(text) {
            return Ok(id);
        }
        let (groves, _) = self.groves()?;
        groves
            .iter()
            .find(|g| g.name == text && g.status == GroveStatus::Active)
            .map(|g| g.id)
            .ok_or_else(|| {
                Error::not_found(format!(
                    "no grove is called {:?}",
                    crate::model::id::shorten(text)
                ))
                .with_hint("`orc grove list` shows the groves")
            })
    }

    /// The grove the command runs in, or the one given.
    pub fn current_grove(&self, explicit: Option<&str>) -> Result<GroveId> {
        match (explicit, &self.context) {
            (Some(text), _) => self.resolve_grove(text),
            (None, Context::Grove { id, .. }) => Ok(*id),
            (None, _) => Err(Error::usage(
                "this is not a grove; run the command inside one, or pass --grove",
            )),
        }
    }
}

/// Reads a grove's assignment file, if it has one.
pub fn read_assignment(dir: &OrcDir) -> Result<Option<Assignment>> {
    read_record_opt(&dir.path(ASSIGNMENT_FILE), |a: &Assignment| a.validate())
}

/// The grove an actor name belongs to (`IMP-GROVE-001` -> `GROVE-001`).
pub fn grove_of_actor(actor: &str) -> Option<GroveId> {
    actor
        .strip_prefix("IMP-")
        .and_then(|g| GroveId::parse(g).ok())
}
