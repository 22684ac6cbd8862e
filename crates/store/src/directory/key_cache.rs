//! Keys this process authenticated, remembered while it hears revocations (PostgreSQL's
//! `NOTIFY`; see `keys`): a remembered key is served without a database round trip, and every
//! revocation — or a lost listening connection — forgets them all.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::records::KeyRecord;

/// At most this many keys are remembered; when full, the cache starts over.
const CACHE_CAPACITY: usize = 10_000;

/// Keys this process authenticated, keyed by token hash; used only while listening.
#[derive(Debug, Default)]
pub(crate) struct KeyCache {
    state: Mutex<CacheState>,
}

#[derive(Debug, Default)]
struct CacheState {
    /// Whether revocations are being heard; nothing is served from the cache otherwise.
    listening: bool,
    /// Bumped on every forget: a lookup that started before it does not fill the cache.
    generation: u64,
    keys: HashMap<String, KeyRecord>,
}

impl KeyCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, CacheState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The remembered key, or the generation to fill the cache at (`None`: not listening).
    pub(crate) fn get(&self, hash: &str) -> Result<KeyRecord, Option<u64>> {
        let s = self.lock();
        match s.keys.get(hash) {
            Some(k) if s.listening => Ok(k.clone()),
            _ => Err(s.listening.then_some(s.generation)),
        }
    }

    pub(crate) fn fill(&self, generation: u64, hash: String, key: &KeyRecord) {
        let mut s = self.lock();
        if s.listening && s.generation == generation {
            if s.keys.len() >= CACHE_CAPACITY {
                s.keys.clear();
            }
            s.keys.insert(hash, key.clone());
        }
    }

    /// Forgets every key; `listening` says whether revocations are heard from now on
    /// (`None`: as before).
    pub(crate) fn forget(&self, listening: Option<bool>) {
        let mut s = self.lock();
        s.keys.clear();
        s.generation += 1;
        if let Some(l) = listening {
            s.listening = l;
        }
    }
}
