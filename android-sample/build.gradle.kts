// The plugins of the sample's two modules: the app (Android) and sample-logic (plain Kotlin/JVM).
plugins {
    id("com.android.application") version "8.7.3" apply false
    id("org.jetbrains.kotlin.android") version "2.1.0" apply false
    id("org.jetbrains.kotlin.jvm") version "2.1.0" apply false
    id("com.google.gms.google-services") version "4.4.2" apply false
}
