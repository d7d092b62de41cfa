from tests.admin.helpers import A, add_staff, staff_login, text_of


def test_smoke(client, state, world, clock):
    add_staff(state, world, "director_a")
    r = staff_login(client, world, "director_a", clock)
    assert r.headers["location"] == "/admin"
    for url in ["/admin", "/admin/personnes", "/admin/personnes?type=responsables", f"/admin/eleves/{world.pupils['alice']}",
                f"/admin/responsables/{world.guardians['alice']}", "/admin/notifier", f"/admin/statistiques?ecole={A}",
                "/admin/signalements", "/admin/personnels", "/admin/statistiques.csv"]:
        page = client.get(url)
        assert page.status_code == 200, (url, text_of(page.text)[:2000])
