plugins {
    id("com.android.application")
    id("org.jetbrains.kotlin.android")
    id("com.google.gms.google-services")
}

/** A sample setting from gradle.properties (or -P), as a Java string literal for BuildConfig. */
fun setting(name: String): String {
    val value = (project.findProperty(name) as String?).orEmpty().trim()
    return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\""
}

android {
    namespace = "org.pushseal.sample"
    compileSdk = 35

    defaultConfig {
        applicationId = "org.pushseal.sample"
        minSdk = 26
        targetSdk = 35
        versionCode = 1
        versionName = "0.1.0"
        buildConfigField("String", "PUSHSEAL_SENDER_PUBLIC_KEY", setting("pushsealSenderPublicKey"))
        buildConfigField("String", "PUSHSEAL_SENDER_PUBLIC_KEY_V2", setting("pushsealSenderPublicKeyV2"))
        buildConfigField("String", "PUSHSEAL_REGISTRATION_URL", setting("pushsealRegistrationUrl"))
    }

    buildTypes {
        release {
            isMinifyEnabled = true
            proguardFiles(getDefaultProguardFile("proguard-android-optimize.txt"), "proguard-rules.pro")
        }
    }

    buildFeatures {
        buildConfig = true
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
}

kotlin {
    compilerOptions {
        jvmTarget.set(org.jetbrains.kotlin.gradle.dsl.JvmTarget.JVM_17)
    }
}

dependencies {
    // The PushSeal Android library: the Kotlin bindings and the native library
    // for each ABI, built as bindings/README.md describes and copied here.
    implementation(files("libs/pushseal.aar"))
    // A file dependency carries no POM, so JNA is named here, at the version
    // the library's POM declares (5.18.0+ loads on 16 KB-page devices). An app
    // using the published artifact (`implementation("org.pushseal:pushseal-android:0.1.0")`)
    // gets JNA from it and names nothing else.
    implementation("net.java.dev.jna:jna:5.19.1@aar")

    implementation(project(":sample-logic"))

    implementation(platform("com.google.firebase:firebase-bom:33.7.0"))
    implementation("com.google.firebase:firebase-messaging")

    implementation("androidx.core:core-ktx:1.15.0")
    implementation("androidx.activity:activity-ktx:1.9.3")
    implementation("androidx.lifecycle:lifecycle-runtime-ktx:2.8.7")
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.9.0")
    implementation("androidx.work:work-runtime-ktx:2.10.0")
}
