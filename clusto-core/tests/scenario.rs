//! A small data center built the way an automation script would, and the queries such a
//! script runs against it.

mod common;

use clusto_core::{AttrFilter, EntityQuery, NewAttr, NumberSpec, Related, TxMeta, Value};

#[test]
fn build_and_query_a_data_center() {
    let db = common::temporary().unwrap();
    db.write(TxMeta::new("ops", "build sjc1"), |tx| {
        tx.init_clusto()?;
        let dc = tx.create("basicdatacenter", "sjc1", &[])?;
        let mgmt = tx.create(
            "ipmanager",
            "sjc1-mgmt",
            &[
                ("baseip", "10.10.0.0".into()),
                ("netmask", "255.255.252.0".into()),
                ("gateway", "10.10.0.1".into()),
            ],
        )?;
        let prod = tx.create(
            "ipmanager",
            "sjc1-prod",
            &[
                ("baseip", "10.20.0.0".into()),
                ("netmask", "255.255.254.0".into()),
                ("gateway", "10.20.0.1".into()),
            ],
        )?;
        let web = tx.create("pool", "web", &[])?;
        let db_pool = tx.create("pool", "db", &[])?;
        let prod_env = tx.create("unique_pool", "env-prod", &[])?;
        for r in 1..=2 {
            let rack = tx.create("basicrack", &format!("sjc1-r0{r}"), &[])?;
            tx.insert(dc.id, rack.id)?;
            let pdu = tx.create("basicpowerstrip", &format!("sjc1-r0{r}-pdu"), &[])?;
            let switch = tx.create("basicnetworkswitch", &format!("sjc1-r0{r}-sw"), &[])?;
            tx.rack_insert(rack.id, pdu.id, &[1])?;
            tx.rack_insert(rack.id, switch.id, &[45])?;
            tx.add_ip(switch.id, None, Some(mgmt.id))?;
            for s in 1..=6 {
                let server = tx.create("basicserver", &format!("sjc1-r0{r}-s{s:02}"), &[])?;
                tx.rack_insert(rack.id, server.id, &[2 * s, 2 * s + 1])?;
                tx.add_attr(
                    server.id,
                    NewAttr::new("system", format!("P{r}{s:09}")).subkey("serial"),
                )?;
                tx.insert(if s % 2 == 0 { web.id } else { db_pool.id }, server.id)?;
                tx.insert(prod_env.id, server.id)?;
                tx.connect_ports(server.id, "nic-eth", 1, switch.id, s)?;
                tx.connect_ports(server.id, "pwr-nema-5", 1, pdu.id, s)?;
                tx.set_port_attr(
                    server.id,
                    "nic-eth",
                    1,
                    "mac",
                    Value::from(format!("00:25:90:0{r}:00:{s:02x}")),
                )?;
                tx.add_ip(server.id, None, Some(prod.id))?;
                tx.add_ip(server.id, None, Some(mgmt.id))?;
            }
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(
        db.latest_version().unwrap(),
        1,
        "the whole build is one version"
    );

    db.read(|v| {
        let web = v.entity("web")?.id;
        let prod_env = v.entity("env-prod")?.id;
        let web_prod = v.from_pools(&[web, prod_env], &Related::direct())?;
        assert_eq!(web_prod.len(), 6);

        let dc = v.entity("sjc1")?.id;
        let servers = Related {
            types: vec!["server".into()],
            recursive: true,
            ..Default::default()
        };
        let under = v.contents(dc, &AttrFilter::any(), &servers)?;
        assert_eq!(
            under.len(),
            12,
            "servers under the datacenter; a 2U server is stored once per unit, listed once"
        );

        let s = v.entity("sjc1-r02-s03")?;
        let slot = v.rack_slot(s.id)?.unwrap();
        assert_eq!(
            (slot.rack.name.as_str(), slot.units.as_slice()),
            ("sjc1-r02", &[6, 7][..])
        );
        assert_eq!(
            v.connected(s.id, "nic-eth", 1)?.unwrap().name,
            "sjc1-r02-sw"
        );
        let switch = v.entity("sjc1-r02-sw")?.id;
        assert_eq!(
            v.connected(switch, "nic-eth", 3)?.unwrap().name,
            "sjc1-r02-s03"
        );
        let ips = v.ips_of(s.id)?;
        assert_eq!(ips.len(), 2);
        assert!(
            ips.iter().any(|ip| ip.starts_with("10.20."))
                && ips.iter().any(|ip| ip.starts_with("10.10."))
        );

        let by_serial = v.entities(&EntityQuery {
            attrs: vec![
                AttrFilter::key("system")
                    .subkey("serial")
                    .value("P2000000003"),
            ],
            ..Default::default()
        })?;
        assert_eq!(by_serial[0].name, "sjc1-r02-s03");
        let by_mac = v.owners(&AttrFilter::any().subkey("mac").value("00:25:90:02:00:03"))?;
        assert_eq!(by_mac[0].name, "sjc1-r02-s03");
        let by_ip = v.devices_with_ip(&ips[0])?;
        assert_eq!(by_ip[0].name, "sjc1-r02-s03");

        let mgmt = v.entity("sjc1-mgmt")?.id;
        assert_eq!(v.allocation_count(mgmt)?, 14, "12 servers and 2 switches");
        assert_eq!(
            v.siblings(s.id)?.len(),
            5,
            "the other db servers of env-prod"
        );
        Ok(())
    })
    .unwrap();

    db.write(TxMeta::new("ops", "decommission"), |tx| {
        let s = tx.view().entity("sjc1-r01-s01")?.id;
        let prod = tx.view().entity("sjc1-prod")?.id;
        tx.deallocate(prod, s, None)?;
        tx.delete_entity("sjc1-r01-s01")
    })
    .unwrap();
    db.read(|v| {
        let pdu = v.entity("sjc1-r01-pdu")?.id;
        assert!(v.port_free(pdu, "pwr-nema-5", 1)?);
        let rack = v.entity("sjc1-r01")?.id;
        assert!(v.device_in(rack, 2)?.is_none());
        Ok(())
    })
    .unwrap();
    let reused = db
        .write(TxMeta::default(), |tx| {
            let prod = tx.view().entity("sjc1-prod")?.id;
            let s = tx.create("basicserver", "new", &[])?;
            tx.allocate(prod, s.id, None, NumberSpec::Next, false)
        })
        .unwrap();
    assert_eq!(
        reused.value,
        Value::Int(-1978400754),
        "10.20.0.14: after the last one handed out"
    );
    let report = db.check().unwrap();
    assert!(report.is_clean(), "{:?}", report.problems);
}
