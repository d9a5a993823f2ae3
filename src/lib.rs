//! `pyqldb._native`: the PyO3 bindings of pyqldb-rs (module init only).
use pyo3::prelude::*;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[pymodule]
fn _native(_m: &Bound<'_, PyModule>) -> PyResult<()> {
    Ok(())
}

#[cfg(test)]
mod scratch {
    use ion_rs::{Element, Decimal, Timestamp};
    fn hex(e: Element) -> String {
        let b = e.encode_as(ion_rs::v1_0::Binary).unwrap();
        b.iter().map(|x| format!("{x:02x}")).collect()
    }
    #[test]
    fn enc() {
        println!("5 {}", hex(Element::int(5)));
        println!("1.5 {}", hex(Element::float(1.5)));
        println!("null {}", hex(Element::null(ion_rs::IonType::Null)));
        let s: Element = Element::struct_builder().with_field("a", Element::int(1)).build().into();
        println!("struct {}", hex(s));
        let ts = Timestamp::with_ymd(2020,1,2).with_hms(3,4,5).with_fractional_seconds(Decimal::new(0, -6)).build().unwrap();
        println!("ts {} {}", hex(Element::timestamp(ts.clone())), ts);
        let ts = Timestamp::with_ymd(2020,1,2).with_hms(3,4,5).with_fractional_seconds(Decimal::new(0, -6)).with_offset(60).build().unwrap();
        println!("ts {} {}", hex(Element::timestamp(ts.clone())), ts);
    }
}
