//! The board constraint files (`constraints/`), embedded in the binary so an installed
//! `squeezeflow` writes complete board bundles outside the repository. `$SQUEEZEFLOW_CONSTRAINTS`
//! names a folder to use instead (a site's own pin-outs).

/// Every board file of `constraints/`: (file name, contents). A test checks this list against
/// the folder, so a new file cannot be forgotten here.
pub const EMBEDDED: &[(&str, &str)] = &[
    ("kc705.xdc", include_str!("../../constraints/kc705.xdc")),
    (
        "kc705_accel.xdc",
        include_str!("../../constraints/kc705_accel.xdc"),
    ),
    (
        "nexys_video.xdc",
        include_str!("../../constraints/nexys_video.xdc"),
    ),
    (
        "nexys_video_accel.xdc",
        include_str!("../../constraints/nexys_video_accel.xdc"),
    ),
    ("ulx3s.lpf", include_str!("../../constraints/ulx3s.lpf")),
    (
        "ulx3s_accel.lpf",
        include_str!("../../constraints/ulx3s_accel.lpf"),
    ),
    ("zcu104.xdc", include_str!("../../constraints/zcu104.xdc")),
    (
        "zcu104_accel.xdc",
        include_str!("../../constraints/zcu104_accel.xdc"),
    ),
];

#[cfg(test)]
mod tests {
    #[test]
    fn every_board_file_of_the_folder_is_embedded_as_it_is() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../constraints");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n != "README.md")
            .collect();
        on_disk.sort();
        let mut embedded: Vec<String> =
            super::EMBEDDED.iter().map(|(n, _)| n.to_string()).collect();
        embedded.sort();
        assert_eq!(on_disk, embedded);
        for (name, text) in super::EMBEDDED {
            assert_eq!(
                std::fs::read_to_string(dir.join(name)).unwrap(),
                *text,
                "{name}"
            );
        }
    }
}
