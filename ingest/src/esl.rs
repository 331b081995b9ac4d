//! FreeSWITCH event socket (ESL), mod_callcenter events → canonical events. (Being written.)
