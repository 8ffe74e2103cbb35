//! The content hashes a client build lists in `<site root>/hash.txt`, one `kind: hash` line
//! each (`js`, `wasm`, `css`): `scripts/build.sh` writes it, the server reads it to name the
//! client files, and the benchmark to measure only the current build's files.

/// The hashes a build wrote; a kind whose line is missing or not a content hash is `None`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct HashList {
    pub js: Option<String>,
    pub wasm: Option<String>,
    pub css: Option<String>,
}

impl HashList {
    pub fn parse(text: &str) -> HashList {
        let mut list = HashList::default();
        for line in text.lines() {
            let Some((kind, hash)) = line.split_once(':') else {
                continue;
            };
            let hash = hash.trim();
            if !is_content_hash(hash) {
                continue;
            }
            let slot = match kind.trim() {
                "js" => &mut list.js,
                "wasm" => &mut list.wasm,
                "css" => &mut list.css,
                _ => continue,
            };
            *slot = Some(hash.to_owned());
        }
        list
    }

    /// Every hash the list names.
    pub fn hashes(&self) -> impl Iterator<Item = &str> {
        [&self.js, &self.wasm, &self.css]
            .into_iter()
            .flatten()
            .map(String::as_str)
    }
}

/// Whether `text` is a hash as the build writes it: 16 lowercase hex digits.
pub fn is_content_hash(text: &str) -> bool {
    text.len() == 16
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_list_names_the_stylesheet() {
        let list = HashList::parse(
            "js: eec0b362f7020261\nwasm: f997ea64c8d85597\ncss: 5d434c9257974426\n",
        );
        assert_eq!(list.css.as_deref(), Some("5d434c9257974426"));
        assert_eq!(HashList::parse("css: ../../etc/passwd\n").css, None);
        assert_eq!(HashList::parse("").css, None);
    }

    #[test]
    fn the_hash_list_names_every_kind_it_knows() {
        let list = HashList::parse(
            "js: eec0b362f7020261\nwasm: f997ea64c8d85597\ncss: 5d434c9257974426\nmap: 0123456789abcdef\n",
        );
        assert_eq!(
            list.hashes().collect::<Vec<_>>(),
            ["eec0b362f7020261", "f997ea64c8d85597", "5d434c9257974426"]
        );
        assert_eq!(
            HashList::parse("js: F997EA64C8D85597\n").hashes().count(),
            0
        );
    }
}
