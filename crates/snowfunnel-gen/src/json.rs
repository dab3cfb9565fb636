//! A small streaming JSON writer. Strings are escaped by serde_json; the writer only adds the
//! layout variations real pipelines produce (spaces after `:` and `,`, `\/` escapes), which a
//! consumer must not depend on.

/// How one JSON document is laid out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct JsonStyle {
    /// `": "` and `", "` instead of `":"` and `","`.
    pub(crate) spaced: bool,
    /// Every `/` inside strings written as `\/` (as some JSON libraries do).
    pub(crate) escape_slashes: bool,
}

/// Writes one JSON document into a byte buffer, keeping track of commas.
pub(crate) struct JsonWriter<'a> {
    out: &'a mut Vec<u8>,
    style: JsonStyle,
    /// One entry per open object or array: whether it already holds an element.
    open: Vec<bool>,
    /// A key was just written, so the next value needs no comma.
    after_key: bool,
}

impl<'a> JsonWriter<'a> {
    pub(crate) fn new(out: &'a mut Vec<u8>, style: JsonStyle) -> Self {
        JsonWriter { out, style, open: Vec::with_capacity(8), after_key: false }
    }

    pub(crate) fn begin_object(&mut self) -> &mut Self {
        self.before_value();
        self.out.push(b'{');
        self.open.push(false);
        self
    }

    pub(crate) fn end_object(&mut self) -> &mut Self {
        self.open.pop();
        self.out.push(b'}');
        self
    }

    pub(crate) fn begin_array(&mut self) -> &mut Self {
        self.before_value();
        self.out.push(b'[');
        self.open.push(false);
        self
    }

    pub(crate) fn end_array(&mut self) -> &mut Self {
        self.open.pop();
        self.out.push(b']');
        self
    }

    /// An object key; the next call writes its value.
    pub(crate) fn key(&mut self, key: &str) -> &mut Self {
        self.comma();
        self.escaped(key);
        self.out.push(b':');
        if self.style.spaced {
            self.out.push(b' ');
        }
        self.after_key = true;
        self
    }

    /// A string value.
    pub(crate) fn string(&mut self, value: &str) -> &mut Self {
        self.before_value();
        self.escaped(value);
        self
    }

    /// A value written as is: a number, `true`, `false` or `null`.
    pub(crate) fn raw(&mut self, value: &str) -> &mut Self {
        self.before_value();
        self.out.extend_from_slice(value.as_bytes());
        self
    }

    /// An integer value.
    pub(crate) fn int(&mut self, value: i64) -> &mut Self {
        self.before_value();
        crate::text::push_int(self.out, value);
        self
    }

    /// An integer value, or `null` when absent.
    pub(crate) fn opt_int(&mut self, value: Option<i64>) -> &mut Self {
        match value {
            Some(value) => self.int(value),
            None => self.raw("null"),
        }
    }

    /// A string value, or `null` when absent.
    pub(crate) fn opt_string(&mut self, value: Option<&str>) -> &mut Self {
        match value {
            Some(value) => self.string(value),
            None => self.raw("null"),
        }
    }

    fn before_value(&mut self) {
        if self.after_key {
            self.after_key = false;
        } else {
            self.comma();
        }
    }

    fn comma(&mut self) {
        if let Some(has_element) = self.open.last_mut() {
            if *has_element {
                self.out.push(b',');
                if self.style.spaced {
                    self.out.push(b' ');
                }
            }
            *has_element = true;
        }
    }

    fn escaped(&mut self, text: &str) {
        // Most strings need no escape at all: copy those, and leave the rest to serde_json.
        let plain = text
            .bytes()
            .all(|b| b >= 0x20 && b != b'"' && b != b'\\' && !(b == b'/' && self.style.escape_slashes));
        if plain {
            self.out.push(b'"');
            self.out.extend_from_slice(text.as_bytes());
            self.out.push(b'"');
            return;
        }
        let start = self.out.len();
        serde_json::to_writer(&mut *self.out, text).expect("writing JSON to a Vec cannot fail");
        if self.style.escape_slashes && self.out[start..].contains(&b'/') {
            let escaped: Vec<u8> = self.out.drain(start..).collect();
            for byte in escaped {
                if byte == b'/' {
                    self.out.push(b'\\');
                }
                self.out.push(byte);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(style: JsonStyle) -> String {
        let mut out = Vec::new();
        let mut json = JsonWriter::new(&mut out, style);
        json.begin_object().key("schema").string("iglu:a/b/jsonschema/1-0-0").key("data");
        json.begin_array().string("x\ty\n\"z\"").int(-3).raw("null").begin_object().end_object();
        json.end_array().end_object();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn compact_and_escaped() {
        let text = sample(JsonStyle::default());
        assert_eq!(text, r#"{"schema":"iglu:a/b/jsonschema/1-0-0","data":["x\ty\n\"z\"",-3,null,{}]}"#);
    }

    #[test]
    fn variations_stay_valid_json() {
        let text = sample(JsonStyle { spaced: true, escape_slashes: true });
        assert_eq!(
            text,
            r#"{"schema": "iglu:a\/b\/jsonschema\/1-0-0", "data": ["x\ty\n\"z\"", -3, null, {}]}"#
        );
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["schema"], "iglu:a/b/jsonschema/1-0-0");
    }
}
