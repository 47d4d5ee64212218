//! The storage contract of `keyward_core::store`, written once over `Arc<dyn Store>` so that
//! every backend runs the same suite. Each test gets a fresh, migrated database.
//!
//! The list of contract tests is written once, in `contract_tests!`; each backend
//! instantiates it with one line that names how to open a fresh store (the opener returns the
//! store plus a guard that keeps the database alive for the test), plus any tests only that
//! backend runs.

mod accounts;
mod audit_and_credentials;
mod fixtures;
mod imports;
mod key_listing;
mod keys;
mod operations;
mod postgres;
mod sqlite;
mod transactions;

/// Generates one `#[tokio::test]` per contract function for a backend: `contract_tests!(module,
/// opener; extra tests)` makes `mod module` with every test of the list below and the extra
/// ones.
macro_rules! contract_tests {
    ($backend:ident, $open:path; $($extra:ident :: $extra_name:ident),* $(,)?) => {
        contract_tests!(@instantiate $backend, $open;
            accounts::users_round_trip_and_are_found_by_id_and_email,
            accounts::duplicate_email_is_a_conflict,
            accounts::workspace_updates_write_every_mutable_field,
            accounts::lock_workspace_reads_the_workspace_inside_the_transaction,
            accounts::workspaces_of_user_come_with_the_role_oldest_first,
            accounts::memberships_keep_null_scopes_apart_from_narrowed_scopes,
            accounts::duplicate_membership_is_a_conflict,
            accounts::members_are_listed_with_their_users_oldest_first,
            accounts::membership_updates_and_deletes_change_the_owner_count,
            keys::a_key_round_trips_every_field,
            keys::key_by_id_finds_a_key_in_any_workspace_but_never_a_deleted_one,
            keys::key_by_hash_finds_the_key_and_returns_deleted_keys_too,
            keys::key_by_hash_brings_the_creators_membership_and_the_members_policy,
            keys::duplicate_key_hash_is_a_conflict,
            keys::a_second_successor_of_the_same_key_is_a_conflict,
            keys::keys_of_another_workspace_are_invisible,
            keys::each_key_gets_the_next_sequence_number_and_is_found_by_it,
            key_listing::listing_is_newest_first_and_the_cursor_continues_after_the_last_row,
            key_listing::listing_breaks_ties_on_created_at_by_id,
            key_listing::listing_filters_by_status_at_the_given_instant,
            key_listing::listing_filters_by_creator_and_case_insensitive_name,
            key_listing::name_filter_matches_like_wildcards_literally,
            keys::deleted_keys_are_not_listed_and_do_not_count,
            keys::key_counts_count_active_and_total,
            keys::a_grace_key_counts_as_active_only_once_its_successor_is_not,
            keys::update_key_writes_the_mutable_fields,
            keys::unrevoked_keys_of_user_skip_revoked_deleted_and_other_creators,
            keys::record_key_use_never_moves_last_used_at_backwards,
            audit_and_credentials::audit_events_round_trip_every_field,
            audit_and_credentials::audit_listing_is_newest_first_with_filters_and_cursor,
            audit_and_credentials::audit_concerning_a_user_shows_only_that_user_and_its_own_keys,
            audit_and_credentials::service_tokens_are_found_by_hash,
            audit_and_credentials::sessions_are_found_by_hash_and_deleted_by_id,
            transactions::migrate_is_idempotent_and_ping_answers,
            transactions::dropping_a_transaction_rolls_it_back,
            transactions::a_conflict_does_not_poison_the_writer,
            transactions::committed_writes_are_visible_to_plain_reads,
            transactions::a_transaction_sees_its_own_uncommitted_writes,
            transactions::concurrent_transactions_are_serialized,
            operations::pepper_fingerprint_is_recorded_once_and_never_replaced,
            operations::service_tokens_are_listed_oldest_first_with_every_field,
            operations::service_token_names_are_unique_revoked_ones_included,
            operations::update_service_token_writes_name_and_revoked_at,
            operations::record_service_token_use_never_moves_last_used_at_backwards,
            operations::users_and_workspaces_are_listed_oldest_first_after_the_cursor,
            operations::update_user_writes_name_password_hash_and_email_verified_at,
            imports::imported_keys_exist_once_one_does_and_deleted_ones_still_count,
            imports::insert_keys_writes_every_row_with_its_source_across_statements,
            imports::insert_keys_with_a_taken_hash_is_a_conflict_and_writes_nothing,
            imports::existing_key_hashes_names_the_stored_ones_deleted_included,
            imports::insert_audits_writes_every_event,
            $($extra::$extra_name,)*
        );
    };
    (@instantiate $backend:ident, $open:path; $($module:ident :: $name:ident),* $(,)?) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let (store, _guard) = $open().await;
                    super::$module::$name(store).await;
                }
            )*
        }
    };
}

contract_tests!(on_sqlite, crate::store_contract::sqlite::fresh;
    // The key-change log. PostgreSQL announces the same writes through notifications instead
    // (a log numbered at insert cannot be polled safely there): see postgres.rs.
    keys::key_writes_and_policy_changes_land_in_the_change_log_but_uses_do_not,
    keys::service_token_writes_and_member_removals_land_in_the_change_log,
);

contract_tests!(on_postgres, crate::store_contract::postgres::fresh;);
