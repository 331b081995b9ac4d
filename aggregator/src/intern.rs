//! Dense ids for the names that come from events (queues, agents, reason and
//! activity codes), so the hot path indexes vectors instead of hashing strings
//! into owned keys. A name is allocated once, the first time it is seen.

use std::marker::PhantomData;

use hashbrown::HashMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! dense_id {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub struct $name(pub u32);

        impl DenseId for $name {
            fn from_index(i: usize) -> Self {
                $name(u32::try_from(i).expect("fewer than 2^32 names"))
            }
            fn index(self) -> usize {
                self.0 as usize
            }
        }
    };
}

/// A dense index usable as a vector position.
pub trait DenseId: Copy {
    /// The id at vector position `i`.
    fn from_index(i: usize) -> Self;
    /// The vector position of this id.
    fn index(self) -> usize;
}

dense_id!(
    /// A queue of one tenant.
    QueueId
);
dense_id!(
    /// An agent of one tenant.
    AgentId
);
dense_id!(
    /// A reason or activity code (`break`, `lunch`, …); one space for both,
    /// so an activity can be compared with an agent's not-ready reason.
    CodeId
);

/// Names ↔ dense ids.
#[derive(Debug, Clone)]
pub struct Interner<I> {
    ids: HashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
    _id: PhantomData<I>,
}

impl<I> Default for Interner<I> {
    fn default() -> Self {
        Interner {
            ids: HashMap::new(),
            names: Vec::new(),
            _id: PhantomData,
        }
    }
}

impl<I: DenseId> Interner<I> {
    /// The id of `name`, creating it on first sight.
    pub fn intern(&mut self, name: &str) -> I {
        if let Some(&i) = self.ids.get(name) {
            return I::from_index(i as usize);
        }
        let i = self.names.len();
        self.names.push(name.into());
        // Ids are u32 to keep the tables small; 2^32 distinct names is a bug.
        self.ids.insert(
            name.into(),
            u32::try_from(i).expect("fewer than 2^32 names"),
        );
        I::from_index(i)
    }

    /// The id of `name`, if it was ever seen.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<I> {
        self.ids.get(name).map(|&i| I::from_index(i as usize))
    }

    /// The name interned as `id`.
    pub fn name(&self, id: I) -> &str {
        &self.names[id.index()]
    }

    /// Number of names interned.
    #[must_use]
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether no name is interned.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// All ids with their names, in id order.
    pub fn iter(&self) -> impl Iterator<Item = (I, &str)> {
        self.names
            .iter()
            .enumerate()
            .map(|(i, n)| (I::from_index(i), &**n))
    }
}

/// Serialized as the list of names; the index is rebuilt on load.
impl<I> Serialize for Interner<I> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.names.serialize(s)
    }
}

impl<'de, I: DenseId> Deserialize<'de> for Interner<I> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let names = Vec::<Box<str>>::deserialize(d)?;
        let mut interner = Interner::default();
        for n in &names {
            interner.intern(n);
        }
        if interner.len() != names.len() {
            return Err(serde::de::Error::custom("repeated name in interner"));
        }
        Ok(interner)
    }
}

/// Grows `v` so that `id` is a valid index, and returns that element.
pub fn slot<I: DenseId, T: Default>(v: &mut Vec<T>, id: I) -> &mut T {
    let i = id.index();
    if v.len() <= i {
        v.resize_with(i + 1, T::default);
    }
    &mut v[i]
}
