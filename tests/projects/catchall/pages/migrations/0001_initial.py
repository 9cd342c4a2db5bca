from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(
            name="Page",
            fields=[
                ("id", models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("slug", models.CharField(blank=True, max_length=200, unique=True)),
                ("title", models.CharField(max_length=200)),
                ("body", models.TextField(blank=True)),
            ],
        ),
    ]
