//! What a write transaction wrote that a verification cache may hold, recorded by each
//! backend's transaction as it writes, so the writing node can update its own cache at
//! commit without asking the database (`keyward_core::store::Written`).

use std::collections::HashMap;

use keyward_core::model::Workspace;
use keyward_core::secret::CredentialHash;
use keyward_core::store::Written;
use uuid::Uuid;

/// The parts of a workspace that decide what its keys may do.
type Policy = (String, bool);

fn policy(workspace: &Workspace) -> Policy {
    (workspace.plan.clone(), workspace.members_can_create_keys)
}

#[derive(Debug, Default)]
pub(crate) struct WriteLog {
    written: Written,
    /// Policies as this transaction read them, so that a rename or a prefix change, which
    /// no key's answer depends on, does not empty the cache.
    read: HashMap<Uuid, Policy>,
}

impl WriteLog {
    /// A workspace the transaction read (and, on backends with row locks, locked).
    pub(crate) fn read_workspace(&mut self, workspace: &Workspace) {
        self.read.insert(workspace.id, policy(workspace));
    }

    /// A workspace update: everything may have changed unless the policy read earlier in
    /// this transaction is unchanged.
    pub(crate) fn updated_workspace(&mut self, workspace: &Workspace) {
        if self.read.get(&workspace.id) != Some(&policy(workspace)) {
            self.written.everything = true;
        }
        self.read.insert(workspace.id, policy(workspace));
    }

    /// A key or service token with this hash was inserted or updated.
    pub(crate) fn credential(&mut self, hash: &CredentialHash) {
        if !self.written.everything {
            self.written.hashes.push(*hash);
        }
    }

    /// A membership was removed: the member's keys stop acting, whichever they are.
    pub(crate) fn removed_member(&mut self) {
        self.written.everything = true;
    }

    pub(crate) fn finish(mut self) -> Written {
        if self.written.everything {
            self.written.hashes.clear();
        }
        self.written
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace() -> Workspace {
        Workspace {
            id: Uuid::now_v7(),
            name: "Acme".into(),
            plan: "pro".into(),
            key_prefix: keyward_core::key_format::KeyPrefix::parse_for_workspace("kw_")
                .unwrap_or_else(|| panic!("kw_ is a valid prefix")),
            key_format: Default::default(),
            members_can_create_keys: false,
            created_at: keyward_core::model::now(),
            updated_at: keyward_core::model::now(),
        }
    }

    #[test]
    fn a_rename_is_not_a_policy_change_but_a_plan_change_is() {
        let mut w = workspace();
        let mut log = WriteLog::default();
        log.read_workspace(&w);
        w.name = "Renamed".into();
        log.updated_workspace(&w);
        assert!(!log.written.everything);
        w.plan = "free".into();
        log.updated_workspace(&w);
        assert!(log.finish().everything);
    }

    #[test]
    fn an_update_of_a_workspace_never_read_counts_as_a_policy_change() {
        let mut log = WriteLog::default();
        log.updated_workspace(&workspace());
        assert!(log.finish().everything);
    }

    #[test]
    fn credentials_are_listed_until_everything_changed() {
        let mut log = WriteLog::default();
        let hash = CredentialHash::from_bytes([7; 32]);
        log.credential(&hash);
        let written = std::mem::take(&mut log).finish();
        assert_eq!(written.hashes, vec![hash]);
        log.credential(&hash);
        log.removed_member();
        let written = log.finish();
        assert!(written.everything && written.hashes.is_empty());
    }
}
