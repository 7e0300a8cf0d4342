from tests.factories import event, guest


def test_check_in_through_the_api_puts_the_guest_in_the_stay_group(api):
    response = api.send_event(event(guests=[guest("Mei", "Chen")]))
    assert response.status_code == 200, response.json
    assert response.json["result"] == "applied"
    members = api.get("/properties/TEST/stay-group/members")
    assert [m["display_name"] for m in members.json["members"]] == ["Mei C."]
