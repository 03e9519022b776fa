from django.test import SimpleTestCase


class HealthTests(SimpleTestCase):
    def test_health(self) -> None:
        response = self.client.get("/health/")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["status"], "ok")
