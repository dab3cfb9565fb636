//! `snowfunnel explain`: a waterfall per funnel, from the lines read to its last step, with the
//! events and distinct keys each bad-row reason, rule and step took away, all variants together
//! and per variant; and a key's story, its events and where it left each funnel.
//!
//! The job ([`Explain`]) counts the funnels with the engine's own recorder into the engine's
//! own state, so the last rows are the counts `run` reports, and beside it, per funnel, each
//! event's fate under the per-event rows ([`Rules::admit`](crate::Rules::admit), the funnel's
//! `app_ids` and window, the experiment context). The rows decided on the whole state
//! (duplicates, `migration_keys`, conflicting keys, steps) come from the engine's answers for
//! the events that passed them. Memory: the engine's state, plus per funnel 13 to 15 bytes per
//! `(key, variant)` (a 12-byte hash-table entry and its control byte) and 40 bytes (a 32-byte
//! [`Survivor`](tally::Survivor) and an 8-byte context, plus 8 per further context) per event
//! that passed the per-event rows.

mod job;
mod row;
mod story;
mod tally;
mod waterfall;

pub use job::{Explain, ExplainRecorder, ExplainState};
pub use row::Row;
pub use story::{EventFate, KeyFate, KeyStory, StoryEvent};
pub use waterfall::{Cell, Waterfall, WaterfallRow};

use crate::plan::Plan;
use crate::report::RunReport;
use waterfall::{Inputs, waterfall};

/// What `explain` found.
#[derive(Clone, Debug)]
pub struct Explained {
    /// One waterfall per funnel of the plan, in definition order.
    pub waterfalls: Vec<Waterfall>,
    /// The asked key's story.
    pub story: Option<KeyStory>,
    /// The report `run` would write of the same inputs.
    pub report: RunReport,
}

impl ExplainState {
    /// The waterfalls of every funnel of `plan` (the plan the job was made for), and the story
    /// of `key` when the job was asked for one.
    #[must_use]
    pub fn finish(mut self, plan: &Plan, key: Option<&[u8]>) -> Explained {
        let report = self.engine.report(plan);
        let reach = self.engine.reach(plan);
        let subjects = self.engine.subjects(plan);
        let counters = *self.engine.counters();
        let mut events = std::mem::take(&mut self.story);
        let inputs: Vec<Inputs<'_>> = plan
            .funnels()
            .iter()
            .enumerate()
            .map(|(f, funnel)| Inputs {
                funnel,
                lines: counters.lines,
                bad: counters.bad.by_reason().collect(),
                valid: counters.events,
                tally: &self.funnels[f],
                dedup: &self.engine.funnels[f].dedup,
                subjects: &subjects[f],
                reach: &reach[f],
            })
            .collect();
        let waterfalls = inputs.iter().map(waterfall).collect();
        let story = key.map(|key| {
            let dict = self.engine.keys.lock();
            let id = dict.find(key);
            let key_of = |id: u32| String::from_utf8_lossy(&dict.key(id)).into_owned();
            let funnels = inputs.iter().map(|i| story::key_fate(i, id, key_of)).collect();
            for event in &mut events {
                for (fate, i) in event.funnels.iter_mut().zip(&inputs) {
                    if fate.counted && fate.removed.is_none() && i.duplicate(fate.at) {
                        fate.removed = Some(Row::Rule(crate::Removed::Duplicate));
                    }
                }
            }
            events.sort_by(|a, b| {
                (a.time, &a.event_id, &a.experiment).cmp(&(b.time, &b.event_id, &b.experiment))
            });
            KeyStory { key: String::from_utf8_lossy(key).into_owned(), events, funnels }
        });
        Explained { waterfalls, story, report }
    }
}
