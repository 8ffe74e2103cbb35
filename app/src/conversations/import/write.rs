//! The write: the organisation's fields as the import checks against them, new keys, and the staged and chunked designs.

use super::checks::{repeat_message, Collector};
use super::criteria::KnownCriteria;
use super::{
    Chunk, ImportError, ImportOptions, ImportSummary, RowSource, DEFINE_FIELD_COMMAND,
    MAX_COUNTED_NEW_KEYS,
};
use crate::conversations::bulk_store::{self, Staging};
use crate::conversations::store::{write_part, NewConversation, PartWrite, WriteSummary};
use crate::db::{Db, Sql, Tx};
use crate::limits::{MAX_FIELDS_PER_ORG, MAX_NEW_FIELDS_PER_BATCH};
use crate::orgs::model::{CustomField, FieldKind};
use crate::orgs::store::{define_field, list_fields_in};
use crate::versions::claim_write_version;
use std::collections::{HashMap, HashSet};

/// The organisation's fields as an import checks against them.
pub(super) struct KnownFields {
    pub(super) count: usize,
    pub(super) ids: HashMap<String, i64>,
    pub(super) select_options: HashMap<String, Vec<String>>,
}

impl KnownFields {
    pub(super) async fn read(tx: &mut Tx, org_id: i64) -> Result<KnownFields, ImportError> {
        let existing = list_fields_in(tx, org_id).await?;
        Ok(KnownFields {
            count: existing.len(),
            ids: existing
                .iter()
                .map(|f| (f.field.key.clone(), f.id))
                .collect(),
            select_options: existing
                .into_iter()
                .filter(|f| f.field.kind == FieldKind::Select)
                .map(|f| (f.field.key, f.field.options))
                .collect(),
        })
    }

    /// Reports a select value that is not an option, and notes keys the organisation lacks.
    pub(super) fn check(
        &self,
        line: u64,
        conversation: &NewConversation,
        new_keys: &mut NewKeys,
        errors: &mut Collector,
    ) {
        for (key, value) in &conversation.fields {
            if let Some(allowed) = self.select_options.get(key) {
                if !allowed.iter().any(|option| option == value) {
                    errors.add(
                        line,
                        Some(&format!("fields.{key}")),
                        format!(
                            "`{value}` is not one of the options: {}",
                            allowed.join(", ")
                        ),
                    );
                }
            } else if !self.ids.contains_key(key) {
                new_keys.note(key);
            }
        }
    }

    /// Defines the new keys not defined yet, as text fields after the existing ones.
    pub(super) async fn define(
        &mut self,
        tx: &mut Tx,
        org_id: i64,
        new_keys: &mut NewKeys,
    ) -> Result<(), ImportError> {
        while new_keys.defined < new_keys.order.len() {
            let key = &new_keys.order[new_keys.defined];
            let field = CustomField {
                key: key.clone(),
                label: key.replace('_', " "),
                kind: FieldKind::Text,
                options: Vec::new(),
            };
            let position = (self.count + new_keys.defined) as i64;
            let id = define_field(tx, org_id, &field, position).await?;
            self.ids.insert(key.clone(), id);
            new_keys.defined += 1;
        }
        Ok(())
    }
}

/// The staged design: every good row is checked and staged as it is read (memory holds one
/// chunk), then repeats are found among the staged rows, and only when nothing is wrong are
/// new fields defined and the rows written set-wise (see [`bulk_store`]).
pub(super) async fn import_staged<S: RowSource>(
    db: &Db,
    org_id: i64,
    source: &mut S,
    options: ImportOptions,
    staging: Staging,
    progress: &mut (dyn FnMut(usize) + Send),
) -> Result<ImportSummary, ImportError> {
    // The version is claimed first, so that this organisation's other writers wait here and
    // the fields read next cannot change before this transaction ends.
    let mut tx = db.begin_bulk().await?;
    let version = claim_write_version(&mut tx, org_id).await?;
    let mut fields = KnownFields::read(&mut tx, org_id).await?;
    let criteria = KnownCriteria::read(&mut tx, org_id).await?;
    bulk_store::create_staging(&mut tx).await?;
    let mut errors = Collector::new();
    let mut new_keys = NewKeys::default();
    let mut summary = ImportSummary::default();
    let mut chunk = Chunk::default();
    let mut done = 0;
    loop {
        let end = source.fill(options.chunk_rows.max(1), &mut chunk, &mut errors);
        summary.rows += chunk.conversations.len() as u64;
        for (line, conversation) in chunk.lines.iter().zip(&chunk.conversations) {
            fields.check(*line, conversation, &mut new_keys, &mut errors);
            criteria.check(*line, conversation, &mut errors);
        }
        // Staged even after an error, so that repeats among the good rows are reported too.
        bulk_store::stage(&mut tx, &chunk.lines, &chunk.conversations, staging).await?;
        done += chunk.conversations.len();
        progress(done);
        if end {
            break;
        }
    }
    bulk_store::prepare_write(&mut tx, summary.rows).await?;
    bulk_store::take_repeats(&mut tx, |repeat| {
        if repeat.differs != 0 {
            errors.add(
                repeat.line as u64,
                Some("external_id"),
                repeat_message(&repeat.external_id, repeat.first_line as u64),
            );
        }
    })
    .await?;
    summary.new_fields = new_keys.order.len();
    let problem = match errors.finish(()) {
        Err(errors) => Some(ImportError::Rows(errors)),
        Ok(()) => new_keys.problem(fields.count).map(ImportError::Fields),
    };
    if let Some(problem) = problem {
        tx.rollback().await?;
        return Err(problem);
    }
    fields.define(&mut tx, org_id, &mut new_keys).await?;
    let written = bulk_store::write_staged(&mut tx, org_id, version).await?;
    summary.written = WriteSummary {
        created: written.created,
        updated: written.updated,
        // Identical repeats are among them: each is a conversation already so.
        skipped: summary
            .rows
            .saturating_sub(written.created + written.updated),
    };
    bulk_store::drop_staging(&mut tx).await?;
    if options.dry_run {
        tx.rollback().await?;
    } else {
        tx.commit().await?;
    }
    Ok(summary)
}

/// The field keys an import uses that the organisation lacks, in the order first seen (the
/// order they are defined in).
#[derive(Default)]
pub(super) struct NewKeys {
    pub(super) order: Vec<String>,
    pub(super) seen: HashSet<String>,
    /// How many of `order` are defined.
    pub(super) defined: usize,
    /// Whether there were more than [`MAX_COUNTED_NEW_KEYS`].
    pub(super) uncounted: bool,
}

impl NewKeys {
    pub(super) fn note(&mut self, key: &str) {
        if self.seen.contains(key) {
            return;
        }
        if self.seen.len() == MAX_COUNTED_NEW_KEYS {
            self.uncounted = true;
            return;
        }
        self.seen.insert(key.to_owned());
        self.order.push(key.to_owned());
    }

    /// Why these new keys cannot all become fields of an organisation that has `existing`.
    pub(super) fn problem(&self, existing: usize) -> Option<String> {
        let count = self.order.len();
        let counted = if self.uncounted {
            format!("more than {count}")
        } else {
            count.to_string()
        };
        let mut listed = self
            .order
            .iter()
            .take(5)
            .map(|key| format!("`{key}`"))
            .collect::<Vec<_>>()
            .join(", ");
        if count > 5 {
            listed.push_str(", …");
        }
        if count > MAX_NEW_FIELDS_PER_BATCH {
            Some(format!(
                "this import uses {counted} field keys the organisation has no field for \
                 ({listed}); one import may define at most {MAX_NEW_FIELDS_PER_BATCH} new \
                 fields. Define the fields first with `{DEFINE_FIELD_COMMAND}`, or leave the \
                 extra keys out; nothing was written"
            ))
        } else if existing + count > MAX_FIELDS_PER_ORG {
            Some(format!(
                "the organisation has {existing} custom fields and this import would add \
                 {counted} more ({listed}); an organisation may have at most \
                 {MAX_FIELDS_PER_ORG}. Use its existing fields (`{DEFINE_FIELD_COMMAND}` \
                 redefines one) or leave the new keys out; nothing was written"
            ))
        } else {
            None
        }
    }
}

/// The chunked design (see [`ImportDesign::Chunked`]).
pub(super) async fn import_chunked<S: RowSource>(
    db: &Db,
    org_id: i64,
    source: &mut S,
    options: ImportOptions,
    progress: &mut (dyn FnMut(usize) + Send),
) -> Result<ImportSummary, ImportError> {
    // The version is claimed first, so that this organisation's other writers wait here and
    // the fields read next cannot change before this transaction ends.
    let mut tx = db.begin().await?;
    let version = claim_write_version(&mut tx, org_id).await?;
    if let Tx::Postgres(_) = tx {
        // Each chunk's statements look up conversations the earlier chunks of this
        // transaction wrote. A plan PostgreSQL made once for the table as it was at the start
        // (perhaps empty, so scanning all of the organisation's rows looks cheap) would
        // otherwise be reused as the table grows, making a long import quadratic.
        tx.execute(
            &Sql::new("SET LOCAL plan_cache_mode = force_custom_plan"),
            "planning each import statement afresh",
        )
        .await?;
    }
    let existing = list_fields_in(&mut tx, org_id).await?;
    let criteria = KnownCriteria::read(&mut tx, org_id).await?;
    let existing_count = existing.len();
    let mut ids: HashMap<String, i64> = existing
        .iter()
        .map(|f| (f.field.key.clone(), f.id))
        .collect();
    let select_options: HashMap<String, Vec<String>> = existing
        .into_iter()
        .filter(|f| f.field.kind == FieldKind::Select)
        .map(|f| (f.field.key, f.field.options))
        .collect();
    let mut errors = Collector::new();
    let mut new_keys = NewKeys::default();
    let mut summary = ImportSummary::default();
    // False from the first problem on: the rest is only read and checked.
    let mut writing = true;
    let mut chunk = Chunk::default();
    let mut in_chunk: HashMap<String, u64> = HashMap::new();
    let mut done = 0;
    loop {
        let end = source.fill(options.chunk_rows.max(1), &mut chunk, &mut errors);
        summary.rows += chunk.conversations.len() as u64;
        in_chunk.clear();
        for (line, conversation) in chunk.lines.iter().zip(&chunk.conversations) {
            if let Some(first) = in_chunk.insert(conversation.external_id.clone(), *line) {
                errors.add(
                    *line,
                    Some("external_id"),
                    format!("`{}` is already on line {first}", conversation.external_id),
                );
            }
            criteria.check(*line, conversation, &mut errors);
            for (key, value) in &conversation.fields {
                if let Some(allowed) = select_options.get(key) {
                    if !allowed.iter().any(|option| option == value) {
                        errors.add(
                            *line,
                            Some(&format!("fields.{key}")),
                            format!(
                                "`{value}` is not one of the options: {}",
                                allowed.join(", ")
                            ),
                        );
                    }
                } else if !ids.contains_key(key) {
                    new_keys.note(key);
                }
            }
        }
        writing = writing && errors.total == 0 && new_keys.problem(existing_count).is_none();
        if writing && !chunk.conversations.is_empty() {
            while new_keys.defined < new_keys.order.len() {
                let key = &new_keys.order[new_keys.defined];
                let field = CustomField {
                    key: key.clone(),
                    label: key.replace('_', " "),
                    kind: FieldKind::Text,
                    options: Vec::new(),
                };
                let position = (existing_count + new_keys.defined) as i64;
                let id = define_field(&mut tx, org_id, &field, position).await?;
                ids.insert(key.clone(), id);
                new_keys.defined += 1;
            }
            let before = done;
            let written = write_part(
                &mut tx,
                org_id,
                version,
                &chunk.conversations,
                &ids,
                &mut |n| progress(before + n),
            )
            .await?;
            match written {
                PartWrite::Written(written) => {
                    summary.written.created += written.created;
                    summary.written.updated += written.updated;
                    summary.written.skipped += written.skipped;
                }
                PartWrite::Repeated(positions) => {
                    for position in positions {
                        errors.add(
                            chunk.lines[position],
                            Some("external_id"),
                            format!(
                                "`{}` appears earlier in this file",
                                chunk.conversations[position].external_id
                            ),
                        );
                    }
                    writing = false;
                }
            }
        }
        done += chunk.conversations.len();
        progress(done);
        if end {
            break;
        }
    }
    summary.new_fields = new_keys.order.len();
    let outcome = match errors.finish(()) {
        Err(errors) => Err(ImportError::Rows(errors)),
        Ok(()) => match new_keys.problem(existing_count) {
            Some(problem) => Err(ImportError::Fields(problem)),
            None => Ok(summary),
        },
    };
    if outcome.is_err() || options.dry_run {
        tx.rollback().await?;
    } else {
        tx.commit().await?;
    }
    outcome
}
