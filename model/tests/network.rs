//! Layer counts against torchvision's and the paper's published figures.

use squeezeflow_model::config::{Bypass, MetaParams, NetworkConfig};
use squeezeflow_model::network::{FireBypass, Network, Stage};
use squeezeflow_model::report::Report;

fn net(cfg: &NetworkConfig) -> Network {
    Network::new(cfg).expect("valid network")
}

#[test]
fn squeezenet1_1_counts_match_torchvision() {
    let n = net(&NetworkConfig::squeezenet1_1());
    assert_eq!(n.params(), 1_235_496);
    assert_eq!(n.macs(), 349_151_936);
    let mut c = NetworkConfig::squeezenet1_1();
    c.input_size = 227;
    assert_eq!(net(&c).macs(), 387_747_520);
}

#[test]
fn squeezenet1_0_counts_match_torchvision() {
    let n = net(&NetworkConfig::squeezenet1_0());
    assert_eq!(n.params(), 1_248_424);
    assert_eq!(n.macs(), 818_924_576);
}

#[test]
fn shapes_follow_torchvision() {
    let n = net(&NetworkConfig::squeezenet1_1());
    let names: Vec<(String, String)> = n
        .stages
        .iter()
        .map(|s| (s.name().to_string(), s.output().to_string()))
        .collect();
    let want = [
        ("conv1", "111x111x64"),
        ("pool1", "55x55x64"),
        ("fire2", "55x55x128"),
        ("fire3", "55x55x128"),
        ("pool2", "27x27x128"),
        ("fire4", "27x27x256"),
        ("fire5", "27x27x256"),
        ("pool3", "13x13x256"),
        ("fire6", "13x13x384"),
        ("fire7", "13x13x384"),
        ("fire8", "13x13x512"),
        ("fire9", "13x13x512"),
        ("conv10", "13x13x1000"),
        ("avgpool", "1x1x1000"),
    ];
    let got: Vec<(&str, &str)> = names
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    assert_eq!(got, want);
    let n0 = net(&NetworkConfig::squeezenet1_0());
    assert_eq!(n0.stages[0].output().to_string(), "109x109x96");
    assert_eq!(n0.stages[1].output().to_string(), "54x54x96");
}

/// The paper's section 5.1 sizes with 4-byte parameters. The paper mixes units: 4.8 and 13 are
/// MiB (4.76, 12.99), 19 is MB (19.37; it is 18.47 MiB). The report prints both.
#[test]
fn paper_model_sizes_by_squeeze_ratio() {
    let size = |sr: f64| {
        let cfg = NetworkConfig::from_toml_str(&format!("[meta]\nsr = {sr}\n")).unwrap();
        let r = Report::new(&net(&cfg));
        (r.fp32_mib, r.fp32_mb)
    };
    assert_eq!(format!("{:.1}", size(0.125).0), "4.8");
    assert_eq!(format!("{:.0}", size(0.5).0), "13");
    assert_eq!(format!("{:.0}", size(0.75).1), "19");
    assert_eq!(format!("{:.0}", size(0.75).0), "18");
}

#[test]
fn meta_parameters_reproduce_the_presets() {
    let fires = MetaParams::SQUEEZENET.fires().unwrap();
    assert_eq!(fires.len(), 8);
    assert_eq!(
        (fires[0].squeeze, fires[0].expand1x1, fires[0].expand3x3),
        (16, 64, 64)
    );
    assert_eq!(
        (fires[7].squeeze, fires[7].expand1x1, fires[7].expand3x3),
        (64, 256, 256)
    );
    let m = MetaParams {
        pct_3x3: 0.01,
        ..MetaParams::SQUEEZENET
    };
    let f = m.fires().unwrap();
    assert_eq!((f[0].expand1x1, f[0].expand3x3), (127, 1));
}

#[test]
fn bypass_variants() {
    let mut c = NetworkConfig::squeezenet1_0();
    c.bypass = Bypass::Simple;
    let n = net(&c);
    let kinds: Vec<&str> = n
        .fires()
        .map(|f| match f.bypass {
            FireBypass::None => "none",
            FireBypass::Identity => "id",
            FireBypass::Conv(_) => "conv",
        })
        .collect();
    assert_eq!(
        kinds,
        ["none", "id", "none", "id", "none", "id", "none", "id"]
    );
    c.bypass = Bypass::Complex;
    let n = net(&c);
    let kinds: Vec<&str> = n
        .fires()
        .map(|f| match f.bypass {
            FireBypass::None => "none",
            FireBypass::Identity => "id",
            FireBypass::Conv(_) => "conv",
        })
        .collect();
    assert_eq!(
        kinds,
        ["conv", "id", "conv", "id", "conv", "id", "conv", "id"]
    );
    // fire2's bypass conv: 96 -> 128 channels, 1x1.
    let f2 = n.fires().next().unwrap();
    let FireBypass::Conv(b) = &f2.bypass else {
        panic!()
    };
    assert_eq!(
        (b.in_channels(), b.out_channels(), b.weights()),
        (96, 128, 96 * 128)
    );
    assert!(n.params() > NetworkConfig::squeezenet1_0().fires.len() as u64);
    assert!(matches!(n.stages.last(), Some(Stage::AvgPool(_))));
}

fn err(text: &str) -> String {
    NetworkConfig::from_toml_str(text).unwrap_err().to_string()
}

#[test]
fn config_errors_name_the_key() {
    let e = err("preset = \"squeezenet1_1\"\nsqueeze_ratio = 0.5\n");
    assert!(e.contains("squeeze_ratio"), "{e}");
    let e = err("[meta]\nsr = 0.001\n");
    assert!(
        e.contains("meta.sr") && e.contains("fire2.squeeze 0 channels"),
        "{e}"
    );
    let e = err("[meta]\npct_3x3 = 0.0\n");
    assert!(e.contains("meta.pct_3x3"), "{e}");
    let e = err("[meta]\nfreq = 0\n");
    assert!(e.contains("meta.freq"), "{e}");
    let e = err("input_size = 20\n");
    assert!(e.contains("pool_after") || e.contains("input_size"), "{e}");
    let e = err("input_size = 5\n");
    assert!(e.contains("input_size"), "{e}");
    let e = err("preset = \"squeezenet2\"\n");
    assert!(e.contains("preset") && e.contains("squeezenet2"), "{e}");
    let e = err("pool_after = [\"fire12\"]\n");
    assert!(e.contains("pool_after") && e.contains("fire12"), "{e}");
    let e = err("[conv1]\nchannels = 0\nkernel = 3\nstride = 2\n");
    assert!(e.contains("conv1.channels"), "{e}");
    let e = err("[conv1]\nchannels = 8\nkernel = 3\n");
    assert!(e.contains("stride"), "{e}");
    let e = err("[[fire]]\nsqueeze = 0\nexpand1x1 = 4\nexpand3x3 = 4\n");
    assert!(e.contains("fire[0].squeeze"), "{e}");
    let e = err("num_classes = 0\n");
    assert!(e.contains("num_classes"), "{e}");
    let e = err("bypass = \"sometimes\"\n");
    assert!(e.contains("bypass") || e.contains("sometimes"), "{e}");
    let e = err("[meta]\nsr = 0.5\n[[fire]]\nsqueeze = 1\nexpand1x1 = 4\nexpand3x3 = 4\n");
    assert!(e.contains("fire"), "{e}");
    let e = err("bypass = \"simple\"\n[meta]\nfreq = 1\n");
    assert!(e.contains("bypass"), "{e}");
}

#[test]
fn small_custom_network_and_round_trip() {
    let text = r#"
preset = "squeezenet1_1"
name = "tiny"
input_size = 32
num_classes = 10
bypass = "complex"
pool_after = ["conv1", "fire3"]
[conv1]
channels = 8
kernel = 3
stride = 2
[[fire]]
squeeze = 4
expand1x1 = 8
expand3x3 = 8
[[fire]]
squeeze = 4
expand1x1 = 8
expand3x3 = 8
[[fire]]
squeeze = 6
expand1x1 = 12
expand3x3 = 12
"#;
    let c = NetworkConfig::from_toml_str(text).unwrap();
    let n = net(&c);
    assert_eq!(n.conv10().output.to_string(), "3x3x10");
    let back = NetworkConfig::from_toml_str(&c.to_toml_string()).unwrap();
    assert_eq!(back, c);
}
