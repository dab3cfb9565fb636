//! What the traffic contains: the funnel shape, and every oddity a consumer has to handle.

use std::collections::{BTreeMap, BTreeSet};

use snowfunnel_gen::{Event, GenConfig, Line, StepSpec, generate};

fn events(lines: &[Line]) -> Vec<&Event> {
    lines.iter().filter_map(Line::as_event).collect()
}

fn matches(step: &StepSpec, event: &Event) -> bool {
    step.event == event.event
        && match step.event.as_str() {
            "struct" => {
                step.category == event.se_category
                    && step.action == event.se_action
                    && step.label.as_deref().is_none_or(|label| label == event.se_label)
            }
            "unstruct" => step.unstruct_schema == event.unstruct_schema,
            _ => step.page_urlpath.as_deref() == Some(event.page_urlpath.as_str()),
        }
}

#[test]
fn funnels_narrow_step_by_step() {
    let config = GenConfig::new(5, 60_000);
    let lines = generate(&config);
    for experiment in &config.experiments {
        // Keys seen at each step (production only), then the funnel rule: present at every earlier step.
        let mut at_step: Vec<BTreeSet<&str>> = vec![BTreeSet::new(); experiment.steps.len()];
        for event in events(&lines).into_iter().filter(|e| e.app_id == "gitlab") {
            for context in event.experiments.iter().filter(|c| c.experiment == experiment.name) {
                let Some(key) = &context.key else { continue };
                for (i, step) in experiment.steps.iter().enumerate() {
                    if matches(step, event) {
                        at_step[i].insert(key);
                    }
                }
            }
        }
        let mut funnel = Vec::new();
        let mut reached: BTreeSet<&str> = at_step[0].clone();
        funnel.push(reached.len());
        for keys in &at_step[1..] {
            reached = reached.intersection(keys).copied().collect();
            funnel.push(reached.len());
        }
        assert!(funnel[0] > 1_000, "{}: {funnel:?}", experiment.name);
        assert!(funnel.windows(2).all(|w| w[1] < w[0] && w[1] > 0), "{}: {funnel:?}", experiment.name);
        // Some keys do later steps without the first.
        assert!(at_step[1].difference(&at_step[0]).count() > 0, "{}", experiment.name);
    }
}

#[test]
fn traffic_has_the_oddities_consumers_must_handle() {
    let config = GenConfig::new(8, 40_000);
    let lines = generate(&config);
    let events = events(&lines);
    let with_experiment = events.iter().filter(|e| !e.experiments.is_empty()).count();
    let share = with_experiment as f64 / events.len() as f64;
    assert!((0.22..0.28).contains(&share), "experiment share {share}");

    let staging = events.iter().filter(|e| e.app_id == "gitlab-staging").count() as f64 / events.len() as f64;
    assert!((0.035..0.065).contains(&staging), "staging share {staging}");
    assert!(events.iter().any(|e| e.app_id == "gitlab-staging" && !e.experiments.is_empty()));
    assert!(events.iter().any(|e| e.app_id == "gitlab_customers"));

    assert!(events.iter().any(|e| e.experiments.len() == 2 && e.event == "page_view"));
    assert!(events.iter().any(|e| e.experiments.iter().any(|c| c.key.is_none())));
    assert!(events.iter().any(|e| e.experiments.iter().any(|c| !c.migration_keys.is_empty())));
    assert!(events.iter().any(|e| e.se_action == "assignment" && e.platform == "srv"));
    assert!(events.iter().any(|e| e.experiments.iter().any(|c| c.experiment.contains('/'))));
    assert!(events.iter().any(|e| e.derived_micros == Some(0)));
    assert!(events.iter().any(|e| e.derived_micros.is_some_and(|d| d < 0)));
    assert!(events.iter().any(|e| e.derived_micros.is_none()));
    assert!(
        events.iter().any(|e| e.experiments.iter().any(|c| c.key.as_ref().is_some_and(|k| k.len() == 32)))
    );

    // Keys with two variants.
    let mut variants: BTreeMap<(&str, &str), BTreeSet<&str>> = BTreeMap::new();
    for event in &events {
        for context in &event.experiments {
            if let Some(key) = &context.key {
                variants.entry((&context.experiment, key)).or_default().insert(&context.variant);
            }
        }
    }
    let conflicting = variants.values().filter(|v| v.len() > 1).count();
    assert!(conflicting > 10 && conflicting < variants.len() / 20, "{conflicting} of {}", variants.len());
}

#[test]
fn duplicates_repeat_whole_lines_sometimes_far_apart() {
    let lines = generate(&GenConfig::new(9, 50_000));
    let mut first_seen: BTreeMap<&str, (usize, &Event)> = BTreeMap::new();
    let mut distances = Vec::new();
    for (index, event) in lines.iter().enumerate().filter_map(|(i, l)| l.as_event().map(|e| (i, e))) {
        if let Some((earlier, original)) = first_seen.insert(&event.event_id, (index, event)) {
            assert_eq!(original.to_tsv(), event.to_tsv());
            distances.push(index - earlier);
        }
    }
    assert_eq!(distances.len(), 500);
    assert!(distances.iter().any(|&d| d <= 30));
    assert!(distances.iter().any(|&d| d > 5_000), "some duplicates arrive in a later window");
}

#[test]
fn times_stay_in_range_and_mostly_in_order() {
    let config = GenConfig::new(10, 30_000);
    let lines = generate(&config);
    let events = events(&lines);
    assert!(events.iter().all(|e| (config.start_micros..config.end_micros()).contains(&e.collector_micros)));
    let days: BTreeSet<i64> =
        events.iter().map(|e| (e.collector_micros - config.start_micros) / 86_400_000_000).collect();
    assert_eq!(days.len(), 14);
    let out_of_order = events.windows(2).filter(|w| w[1].collector_micros < w[0].collector_micros).count();
    assert!(out_of_order < events.len() / 20, "{out_of_order}");
}
