//! Control messages from arbitrary bytes: decoding never panics, and whatever
//! decodes survives an encode/decode round trip unchanged (so the router and
//! clients never disagree about a message they both accepted).
#![no_main]

use confer_wire::control::{ClientMessage, ServerMessage};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(msg) = ClientMessage::decode(data) {
        let again = ClientMessage::decode(&msg.encode());
        assert_eq!(
            again.as_ref(),
            Ok(&msg),
            "client message changed in a round trip"
        );
    }
    if let Ok(msg) = ServerMessage::decode(data) {
        let again = ServerMessage::decode(&msg.encode());
        assert_eq!(
            again.as_ref(),
            Ok(&msg),
            "server message changed in a round trip"
        );
    }
});
